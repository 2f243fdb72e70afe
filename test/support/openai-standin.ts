import { createServer, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * A local server that speaks the OpenAI chat-completions wire format the way vLLM does, driven
 * by a script: each POST /v1/chat/completions consumes the next step.
 */
export type StandinToolCall = { name: string; arguments: string; id?: string };

export type StandinStep =
  | {
      content?: string | null;
      /** vLLM's reasoning parser output (Qwen3): must never reach a summary. */
      reasoning_content?: string;
      reasoning?: string;
      tool_calls?: StandinToolCall[];
      finish_reason?: string;
    }
  | { status: number; error?: string; headers?: Record<string, string> }
  /** A body sent as is with HTTP 200, e.g. malformed JSON. */
  | { raw: string }
  /** Waits before answering with `then` (default: a plain answer); used to trip client timeouts. */
  | { delayMs: number; then?: StandinStep }
  | ((body: ChatRequestBody) => StandinStep);

export interface ChatRequestBody {
  model: string;
  messages: Array<{ role: string; content?: unknown; tool_calls?: unknown; tool_call_id?: string }>;
  tools?: Array<{ type: string; function: { name: string; description?: string; parameters?: unknown } }>;
  [k: string]: unknown;
}

export interface RecordedRequest {
  method: string;
  path: string;
  headers: IncomingHttpHeaders;
  body: ChatRequestBody;
}

export interface Standin {
  /** Base URL for the SDK, ending in /v1. */
  url: string;
  requests: RecordedRequest[];
  close(): Promise<void>;
}

export interface StandinOptions {
  /** Answer once the script is used up; defaults to an HTTP 500 so over-calling shows. */
  fallback?: StandinStep;
  /** Sent on error responses so SDK backoff is short in tests (the SDK honours it). */
  retryAfterMs?: number;
}

let seq = 0;

function completion(body: ChatRequestBody, step: Exclude<StandinStep, { status: number } | { raw: string } | { delayMs: number } | ((b: ChatRequestBody) => StandinStep)>) {
  const toolCalls = step.tool_calls?.map((c, i) => ({
    id: c.id ?? `call_${++seq}_${i}`,
    type: 'function',
    function: { name: c.name, arguments: c.arguments },
  }));
  const message: Record<string, unknown> = {
    role: 'assistant',
    content: step.content === undefined ? (toolCalls ? null : '') : step.content,
  };
  if (toolCalls?.length) message.tool_calls = toolCalls;
  if (step.reasoning_content !== undefined) message.reasoning_content = step.reasoning_content;
  if (step.reasoning !== undefined) message.reasoning = step.reasoning;
  return {
    id: `chatcmpl-standin-${++seq}`,
    object: 'chat.completion',
    created: Math.floor(Date.now() / 1000),
    model: body.model,
    choices: [{ index: 0, message, logprobs: null, finish_reason: step.finish_reason ?? (toolCalls?.length ? 'tool_calls' : 'stop') }],
    usage: { prompt_tokens: 100, completion_tokens: 20, total_tokens: 120 },
  };
}

export async function startOpenAIStandin(script: StandinStep[], options: StandinOptions = {}): Promise<Standin> {
  const queue = [...script];
  const requests: RecordedRequest[] = [];
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', async () => {
      const send = (status: number, payload: unknown, headers: Record<string, string> = {}) => {
        if (res.destroyed) return;
        res.writeHead(status, { 'content-type': 'application/json', ...headers });
        res.end(JSON.stringify(payload));
      };
      if (req.method === 'GET' && req.url === '/v1/models') {
        send(200, { object: 'list', data: [{ id: 'standin', object: 'model', owned_by: 'standin' }] });
        return;
      }
      if (req.method !== 'POST' || req.url !== '/v1/chat/completions') {
        send(404, { error: { message: `no route ${req.method} ${req.url}`, type: 'NotFoundError', code: 404 } });
        return;
      }
      let body: ChatRequestBody;
      try {
        body = JSON.parse(Buffer.concat(chunks).toString('utf8'));
      } catch {
        send(400, { error: { message: 'body is not JSON', type: 'BadRequestError', code: 400 } });
        return;
      }
      requests.push({ method: req.method, path: req.url, headers: req.headers, body });
      let step: StandinStep = queue.shift() ?? options.fallback ?? { status: 500, error: 'stand-in script exhausted' };
      for (;;) {
        if (typeof step === 'function') step = step(body);
        else if ('delayMs' in step) {
          const delayed = step as { delayMs: number; then?: StandinStep };
          await new Promise((r) => setTimeout(r, delayed.delayMs));
          step = delayed.then ?? { content: 'late answer' };
        } else break;
      }
      if ('raw' in step) {
        if (!res.destroyed) res.writeHead(200, { 'content-type': 'application/json' }).end(step.raw);
        return;
      }
      if ('status' in step) {
        const retryHeaders: Record<string, string> = options.retryAfterMs !== undefined ? { 'retry-after-ms': String(options.retryAfterMs) } : {};
        send(step.status, { error: { message: step.error ?? `stand-in error ${step.status}`, type: 'standin_error', code: step.status } }, { ...retryHeaders, ...step.headers });
        return;
      }
      send(200, completion(body, step));
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/v1`,
    requests,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
