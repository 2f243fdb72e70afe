import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface ModelStandin {
  /** Base URL for the specialists' OpenAI client (ends in /v1). */
  url: string;
  /** Chat completions answered so far. */
  calls(): number;
  close(): Promise<void>;
}

/**
 * The simulated model: an OpenAI chat-completions endpoint (as vLLM serves it) that answers
 * every request with a short plain-text summary after a fixed delay. Plain text ends the
 * specialists' tool loop, so each specialist run costs exactly one model call.
 */
export async function startModelStandin(delayMs: number): Promise<ModelStandin> {
  let calls = 0;
  let seq = 0;
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      if (req.method !== 'POST' || req.url !== '/v1/chat/completions') {
        res.writeHead(404, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ error: { message: `no route ${req.method} ${req.url}`, code: 404 } }));
        return;
      }
      let model = 'bench';
      try {
        model = (JSON.parse(Buffer.concat(chunks).toString('utf8')) as { model?: string }).model ?? model;
      } catch {
        // The answer does not depend on the request.
      }
      calls++;
      setTimeout(() => {
        if (res.destroyed) return;
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(
          JSON.stringify({
            id: `chatcmpl-bench-${++seq}`,
            object: 'chat.completion',
            created: Math.floor(Date.now() / 1000),
            model,
            choices: [
              {
                index: 0,
                message: { role: 'assistant', content: 'Summary (simulated model): the evidence above, unchanged.' },
                logprobs: null,
                finish_reason: 'stop',
              },
            ],
            usage: { prompt_tokens: 100, completion_tokens: 20, total_tokens: 120 },
          }),
        );
      }, delayMs);
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/v1`,
    calls: () => calls,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
