import { createServer as createTcpServer, connect, type Server, type Socket } from 'node:net';
import type { AddressInfo } from 'node:net';
import { afterAll, afterEach, beforeEach, describe, expect, it } from 'vitest';
import { closeDispatchers } from '../src/agents/http';
import { parseToolArgs, stripThink } from '../src/agents/model/qwen';
import { summarize } from '../src/agents/model/summarize';
import type { AgentTool, Gathered } from '../src/agents/types';
import { Evidence, type AgentInput } from '../src/schemas/agent';
import { startOpenAIStandin, type Standin, type StandinStep } from './support/openai-standin';

const quiet = () => {};

function input(url: string | null): AgentInput {
  return {
    agent: 'metrics_agent',
    task: 'Find what changed in checkout metrics',
    incident: {
      id: 'INC-TEST',
      title: 'Checkout errors',
      service: 'checkout-service',
      severity: 'SEV1',
      report: 'checkout is failing',
      window: { start: '2026-04-02T14:00:00Z', end: '2026-04-02T15:00:00Z' },
      now: '2026-04-02T15:00:00Z',
    },
    sources: { prometheusUrl: 'http://127.0.0.1:9090' },
    model: url ? { url, name: 'Qwen/Qwen3-8B' } : null,
  };
}

function gathered(calls: Array<Record<string, unknown>> = []): Gathered {
  const tool: AgentTool = {
    name: 'promql_query',
    description: 'Run an instant PromQL query',
    parameters: { type: 'object', properties: { query: { type: 'string' } }, required: ['query'] },
    run: async (args) => {
      calls.push(args);
      // Raw data can carry PII; it must be redacted before the model sees it.
      return `{instance="10.1.2.3:8080", user="jane.doe@example.com"} 1.45`;
    },
  };
  return {
    evidence: Evidence.parse({}),
    digest: 'p99 latency 120 ms -> 1450 ms from 14:32Z',
    tools: [tool],
    warnings: [],
  };
}

let standin: Standin | null = null;
async function withStandin(script: StandinStep[], retryAfterMs = 5): Promise<Standin> {
  standin = await startOpenAIStandin(script, { retryAfterMs });
  return standin;
}
afterEach(async () => {
  await standin?.close();
  standin = null;
});
afterAll(closeDispatchers);

const fast = { client: { timeoutMs: 2000, maxRetries: 2 } };

describe('model loop against the OpenAI stand-in', () => {
  it('runs a tool call round trip, redacts the tool result and sends enable_thinking=false', async () => {
    const s = await withStandin([
      { tool_calls: [{ name: 'promql_query', arguments: JSON.stringify({ query: 'up' }), id: 'call_1' }] },
      { content: 'p99 rose from 120 ms to 1450 ms at 14:32 UTC.' },
    ]);
    const calls: Array<Record<string, unknown>> = [];
    const res = await summarize(input(s.url), gathered(calls), quiet, fast);
    expect(res).toMatchObject({ summarizedBy: 'model', model: 'Qwen/Qwen3-8B', summary: 'p99 rose from 120 ms to 1450 ms at 14:32 UTC.' });
    expect(calls).toEqual([{ query: 'up' }]);
    expect(s.requests).toHaveLength(2);
    for (const r of s.requests) {
      expect(r.path).toBe('/v1/chat/completions');
      expect(r.body.chat_template_kwargs).toEqual({ enable_thinking: false });
      expect(r.body.model).toBe('Qwen/Qwen3-8B');
    }
    const first = s.requests[0].body;
    expect(first.tools?.map((t) => t.function.name)).toEqual(['promql_query']);
    expect(first.messages[0].role).toBe('system');
    expect(String(first.messages[0].content)).toMatch(/untrusted/);
    expect(String(first.messages[1].content)).toContain('1450 ms');
    const toolMsg = s.requests[1].body.messages.find((m) => m.role === 'tool');
    expect(toolMsg?.tool_call_id).toBe('call_1');
    expect(String(toolMsg?.content)).not.toContain('jane.doe@example.com');
    expect(String(toolMsg?.content)).not.toContain('10.1.2.3');
    expect(String(toolMsg?.content)).toContain('1.45');
    const assistant = s.requests[1].body.messages.find((m) => m.role === 'assistant') as { tool_calls?: Array<{ id: string }> };
    expect(assistant.tool_calls?.[0].id).toBe('call_1');
  });

  it('never copies <think> blocks or reasoning fields into the summary', async () => {
    const s = await withStandin([
      { content: '<think>the user email is bob@corp.example, maybe</think>\n\nError rate 12.4% since 14:32.', reasoning_content: 'SECRET-CHAIN' },
    ]);
    const res = await summarize(input(s.url), gathered(), quiet, fast);
    expect(res.summary).toBe('Error rate 12.4% since 14:32.');
    expect(res.summary).not.toMatch(/think|SECRET|bob@/);
  });

  it('re-asks once when the answer is empty or only an unterminated <think>', async () => {
    const s = await withStandin([
      { content: '<think>still thinking about', reasoning: 'SECRET' },
      { content: 'Pool 48/50 active from 14:30.' },
    ]);
    const res = await summarize(input(s.url), gathered(), quiet, fast);
    expect(res).toMatchObject({ summarizedBy: 'model', summary: 'Pool 48/50 active from 14:30.' });
    expect(s.requests).toHaveLength(2);
    expect(s.requests[1].body.tools).toBeUndefined();
    expect(String(s.requests[1].body.messages.at(-1)?.content)).toMatch(/summary now/i);
  });

  it('falls back to the evidence when the model stays silent', async () => {
    const s = await withStandin([{ content: null }, { content: '' }]);
    const res = await summarize(input(s.url), gathered(), quiet, fast);
    expect(res.summarizedBy).toBe('evidence');
    expect(res.summary).toMatch(/without a model/);
    expect(res.summary).toContain('1450 ms');
    expect(res.warnings.join(' ')).toMatch(/no answer/);
  });

  it('retries 5xx with backoff and then succeeds', async () => {
    const s = await withStandin([{ status: 500 }, { status: 503 }, { content: 'ok after retries' }]);
    const res = await summarize(input(s.url), gathered(), quiet, fast);
    expect(res).toMatchObject({ summarizedBy: 'model', summary: 'ok after retries' });
    expect(s.requests).toHaveLength(3);
  });

  it('does not retry a 400 and still returns an evidence summary with a warning', async () => {
    const s = await withStandin([{ status: 400, error: 'bad request: unknown field' }, { content: 'must not be reached' }]);
    const res = await summarize(input(s.url), gathered(), quiet, fast);
    expect(s.requests).toHaveLength(1);
    expect(res.summarizedBy).toBe('evidence');
    expect(res.model).toBeNull();
    expect(res.warnings[0]).toMatch(/HTTP 400/);
  });

  it.each([401, 403, 404, 422])('does not retry %i', async (status) => {
    const s = await withStandin([{ status }, { content: 'must not be reached' }]);
    const res = await summarize(input(s.url), gathered(), quiet, fast);
    expect(s.requests).toHaveLength(1);
    expect(res.summarizedBy).toBe('evidence');
  });

  it('gives up after the retry budget on persistent 5xx', async () => {
    const s = await withStandin([{ status: 502 }, { status: 502 }, { status: 502 }, { content: 'too late' }]);
    const res = await summarize(input(s.url), gathered(), quiet, fast);
    expect(s.requests).toHaveLength(3);
    expect(res.summarizedBy).toBe('evidence');
    expect(res.warnings[0]).toMatch(/HTTP 502/);
  });

  it('retries a request that times out', async () => {
    const s = await withStandin([{ delayMs: 1500, then: { content: 'too slow' } }, { content: 'second try' }]);
    const res = await summarize(input(s.url), gathered(), quiet, { client: { timeoutMs: 300, maxRetries: 1 } });
    expect(res).toMatchObject({ summarizedBy: 'model', summary: 'second try' });
    expect(s.requests).toHaveLength(2);
  });

  it('answers bad tool-call JSON and unknown tools with an error message, then continues', async () => {
    const calls: Array<Record<string, unknown>> = [];
    const s = await withStandin([
      {
        tool_calls: [
          { name: 'promql_query', arguments: '{"query": "up"', id: 'bad' },
          { name: 'drop_tables', arguments: '{}', id: 'unknown' },
          // double-encoded JSON string, as some servers send
          { name: 'promql_query', arguments: JSON.stringify(JSON.stringify({ query: 'rate(x[2m])' })), id: 'double' },
        ],
      },
      { content: 'done' },
    ]);
    const res = await summarize(input(s.url), gathered(calls), quiet, fast);
    expect(res.summary).toBe('done');
    expect(calls).toEqual([{ query: 'rate(x[2m])' }]);
    const tools = s.requests[1].body.messages.filter((m) => m.role === 'tool');
    expect(tools.map((m) => m.tool_call_id)).toEqual(['bad', 'unknown', 'double']);
    expect(String(tools[0].content)).toMatch(/not valid JSON/);
    expect(String(tools[1].content)).toMatch(/unknown tool/);
  });

  it('recovers Qwen inline <tool_call> blocks', async () => {
    const calls: Array<Record<string, unknown>> = [];
    const s = await withStandin([
      { content: '<tool_call>\n{"name": "promql_query", "arguments": {"query": "up"}}\n</tool_call>' },
      { content: 'inline ok' },
    ]);
    const res = await summarize(input(s.url), gathered(calls), quiet, fast);
    expect(res.summary).toBe('inline ok');
    expect(calls).toEqual([{ query: 'up' }]);
  });

  it('bounds the number of tool rounds', async () => {
    const loop: StandinStep = () => ({ tool_calls: [{ name: 'promql_query', arguments: '{"query":"up"}' }] });
    const s = await withStandin([loop, loop, loop, (b) => (b.tools ? loop : { content: 'final' })]);
    const res = await summarize(input(s.url), gathered(), quiet, { ...fast, maxToolRounds: 3 });
    expect(res.summary).toBe('final');
    expect(s.requests).toHaveLength(4);
    expect(s.requests[3].body.tools).toBeUndefined();
  });

  it('writes the summary from the evidence without a model and says so', async () => {
    const res = await summarize(input(null), gathered(), quiet);
    expect(res).toMatchObject({ summarizedBy: 'evidence', model: null, warnings: [] });
    expect(res.summary).toMatch(/without a model/);
    expect(res.summary).toContain('120 ms -> 1450 ms');
  });
});

describe('sandbox proxy', () => {
  let proxy: Server;
  const connects: Array<{ target: string; auth: string | undefined }> = [];
  const sockets = new Set<Socket>();
  const saved = { ...process.env };

  beforeEach(async () => {
    connects.length = 0;
    // A minimal CONNECT proxy, as the sandbox gives agents (auth in the proxy URL).
    proxy = createTcpServer((client) => {
      sockets.add(client);
      client.once('data', (head) => {
        const text = head.toString('latin1');
        const [line, ...rest] = text.split('\r\n');
        const [method, target] = line.split(' ');
        const auth = rest.find((h) => /^proxy-authorization:/i.test(h))?.split(':').slice(1).join(':').trim();
        connects.push({ target, auth });
        if (method !== 'CONNECT') return client.end('HTTP/1.1 405 Method Not Allowed\r\n\r\n');
        const [host, port] = target.split(':');
        const upstream = connect(Number(port), host, () => {
          client.write('HTTP/1.1 200 Connection Established\r\n\r\n');
          upstream.pipe(client);
          client.pipe(upstream);
        });
        sockets.add(upstream);
        upstream.on('error', () => client.destroy());
        client.on('error', () => upstream.destroy());
      });
    });
    await new Promise<void>((r) => proxy.listen(0, '127.0.0.1', r));
  });
  afterEach(async () => {
    process.env = { ...saved };
    await closeDispatchers();
    for (const s of sockets) s.destroy();
    await new Promise((r) => proxy.close(r));
  });

  it('sends model traffic through HTTPS_PROXY even for localhost listed in NO_PROXY', async () => {
    const s = await withStandin([{ content: 'via proxy' }]);
    const port = (proxy.address() as AddressInfo).port;
    process.env.HTTPS_PROXY = `http://agent:s3cret@localhost:${port}`;
    process.env.NO_PROXY = 'localhost,127.0.0.1';
    const res = await summarize(input(s.url), gathered(), quiet, fast);
    expect(res.summary).toBe('via proxy');
    expect(connects).toHaveLength(1);
    expect(connects[0].target).toBe(new URL(s.url).host);
    expect(connects[0].auth).toBe(`Basic ${Buffer.from('agent:s3cret').toString('base64')}`);
  });
});

describe('qwen helpers', () => {
  it('strips closed, unterminated and orphan-closing think blocks', () => {
    expect(stripThink('<think>a</think>b<think>c</think> d')).toBe('b d');
    expect(stripThink('answer <think>unfinished')).toBe('answer');
    expect(stripThink('reasoning only</think>\nanswer')).toBe('answer');
    expect(stripThink(null)).toBe('');
  });
  it('parses tool arguments defensively', () => {
    expect(parseToolArgs('{"a":1}')).toEqual({ args: { a: 1 }, error: null });
    expect(parseToolArgs('')).toEqual({ args: {}, error: null });
    expect(parseToolArgs({ a: 1 })).toEqual({ args: { a: 1 }, error: null });
    expect(parseToolArgs('[1]').error).toMatch(/object/);
    expect(parseToolArgs('{').error).toMatch(/JSON/);
  });
});
