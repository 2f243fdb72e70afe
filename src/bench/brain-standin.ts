import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { DISPATCH_TOOL_NAME } from '../brain/prompt';
import type { BenchTask } from './tasks';

export interface BrainStandin {
  /** ANTHROPIC_BASE_URL for the brain activity's SDK client. */
  url: string;
  close(): Promise<void>;
}

interface Body {
  model?: string;
  messages?: { role: string; content: unknown }[];
}

/**
 * A zero-latency brain on the Anthropic Messages wire format: the first turn dispatches all
 * three specialists at once, the turn after their results ends the investigation. So an
 * investigation is exactly one parallel wave of three sandboxes, the shape the baseline runs.
 */
export async function startBrainStandin(tasks: BenchTask[]): Promise<BrainStandin> {
  let seq = 0;
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const send = (status: number, payload: unknown) => {
        res.writeHead(status, { 'content-type': 'application/json', 'request-id': `req_bench_${++seq}` });
        res.end(JSON.stringify(payload));
      };
      if (req.method !== 'POST' || req.url?.split('?')[0] !== '/v1/messages') {
        send(404, { type: 'error', error: { type: 'not_found_error', message: `no route ${req.method} ${req.url}` } });
        return;
      }
      let body: Body;
      try {
        body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as Body;
      } catch {
        send(400, { type: 'error', error: { type: 'invalid_request_error', message: 'body is not JSON' } });
        return;
      }
      const last = body.messages?.at(-1)?.content;
      const answered = Array.isArray(last) && last.some((b) => (b as { type?: string }).type === 'tool_result');
      const content = answered
        ? [{ type: 'text', text: 'Root cause: see the specialists\' evidence (benchmark brain).' }]
        : [
            { type: 'text', text: 'Dispatching all three specialists.' },
            ...tasks.map((t, i) => ({ type: 'tool_use', id: `toolu_bench${++seq}_${i}`, name: DISPATCH_TOOL_NAME, input: { agent: t.agent, task: t.task } })),
          ];
      send(200, {
        id: `msg_bench${++seq}`,
        type: 'message',
        role: 'assistant',
        model: body.model ?? 'bench',
        content,
        stop_reason: answered ? 'end_turn' : 'tool_use',
        stop_sequence: null,
        usage: { input_tokens: 100, output_tokens: 50 },
      });
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
