import { createServer, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * A local server that speaks the Anthropic Messages wire format (POST /v1/messages), so tests
 * drive the real @anthropic-ai/sdk over HTTP. A script decides each answer; every request is
 * recorded, so tests can assert what the brain was (and was not) sent.
 */
export type StandinBlock =
  | { type: 'text'; text: string }
  | { type: 'tool_use'; id?: string; name: string; input: unknown };

export type MessagesReply =
  | { content: StandinBlock[]; stop_reason?: 'end_turn' | 'tool_use' | 'max_tokens' | 'stop_sequence' | 'refusal'; model?: string }
  | {
      status: number;
      /** Anthropic error type; defaults from the status (529 overloaded_error, 429 rate_limit_error, ...). */
      errorType?: string;
      message?: string;
      headers?: Record<string, string>;
    };

export interface MessagesRequestBody {
  model: string;
  max_tokens: number;
  system?: unknown;
  messages: Array<{ role: string; content: unknown }>;
  tools?: Array<{ name: string; input_schema: unknown }>;
  tool_choice?: { type: string };
  [k: string]: unknown;
}

export interface RecordedMessagesRequest {
  at: number;
  headers: IncomingHttpHeaders;
  body: MessagesRequestBody;
  raw: string;
}

/** May answer late (a Promise), e.g. to hold a brain turn open while a test kills the worker. */
export type MessagesScript = (body: MessagesRequestBody, index: number) => MessagesReply | Promise<MessagesReply>;

export interface AnthropicStandin {
  /** Base URL for the SDK (it appends /v1/messages). */
  url: string;
  requests: RecordedMessagesRequest[];
  close(): Promise<void>;
}

const ERROR_TYPES: Record<number, string> = {
  400: 'invalid_request_error',
  401: 'authentication_error',
  403: 'permission_error',
  404: 'not_found_error',
  413: 'request_too_large',
  429: 'rate_limit_error',
  500: 'api_error',
  529: 'overloaded_error',
};

let seq = 0;
const toolId = () => `toolu_standin${String(++seq).padStart(6, '0')}`;

/** Sugar for scripts: one text block, then dispatch calls. */
export function dispatchReply(text: string, calls: Array<{ agent?: unknown; task?: unknown; name?: string }>): MessagesReply {
  return {
    content: [
      ...(text ? [{ type: 'text' as const, text }] : []),
      ...calls.map(({ name, ...input }) => ({ type: 'tool_use' as const, name: name ?? 'dispatch', input })),
    ],
    stop_reason: 'tool_use',
  };
}

export function endReply(text: string): MessagesReply {
  return { content: [{ type: 'text', text }], stop_reason: 'end_turn' };
}

export async function startAnthropicStandin(script: MessagesScript): Promise<AnthropicStandin> {
  const requests: RecordedMessagesRequest[] = [];
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', async () => {
      const send = (status: number, payload: unknown, headers: Record<string, string> = {}) => {
        if (res.destroyed) return;
        res.writeHead(status, { 'content-type': 'application/json', 'request-id': `req_standin_${++seq}`, ...headers });
        res.end(JSON.stringify(payload));
      };
      const fail = (status: number, type: string, message: string, headers?: Record<string, string>) =>
        send(status, { type: 'error', error: { type, message } }, headers);
      if (req.method !== 'POST' || req.url?.split('?')[0] !== '/v1/messages') {
        fail(404, 'not_found_error', `no route ${req.method} ${req.url}`);
        return;
      }
      const raw = Buffer.concat(chunks).toString('utf8');
      let body: MessagesRequestBody;
      try {
        body = JSON.parse(raw);
      } catch {
        fail(400, 'invalid_request_error', 'body is not JSON');
        return;
      }
      const index = requests.length;
      requests.push({ at: Date.now(), headers: req.headers, body, raw });
      let reply: MessagesReply;
      try {
        reply = await script(body, index);
      } catch (err) {
        fail(500, 'api_error', `stand-in script threw: ${(err as Error).message}`);
        return;
      }
      if ('status' in reply) {
        fail(reply.status, reply.errorType ?? ERROR_TYPES[reply.status] ?? 'api_error', reply.message ?? `stand-in error ${reply.status}`, reply.headers);
        return;
      }
      const content = reply.content.map((b) => (b.type === 'tool_use' ? { type: 'tool_use', id: b.id ?? toolId(), name: b.name, input: b.input } : b));
      send(200, {
        id: `msg_standin${String(++seq).padStart(6, '0')}`,
        type: 'message',
        role: 'assistant',
        model: reply.model ?? body.model,
        content,
        stop_reason: reply.stop_reason ?? (content.some((b) => b.type === 'tool_use') ? 'tool_use' : 'end_turn'),
        stop_sequence: null,
        usage: { input_tokens: Math.ceil(raw.length / 4), output_tokens: 50 },
      });
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
