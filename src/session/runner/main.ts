// The per-session runner: the SDK-based equivalent of `ant beta:worker run`, uploaded (bundled,
// self-contained) into the session sandbox where the Anthropic CLI is absent. It serves ONE
// session's tool calls with the SDK's own SessionToolRunner (lib/tools/SessionToolRunner.ts: the
// stream, history reconciliation, one call at a time, the 120 s cut, result retries) and a bash
// tool of ours. It holds only the per-session work secret (never the environment key); the lease
// (ack, heartbeats, stop) is kept by the Temporal workflow outside the sandbox.
import Anthropic from '@anthropic-ai/sdk';
import { SessionToolRunner } from '@anthropic-ai/sdk/lib/tools/SessionToolRunner';
import { readFileSync, rmSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { fetch as undiciFetch, ProxyAgent } from 'undici';
import { proxyFromEnv } from '../../agents/http';
import { bashTool } from './bash-tool';
import { sessionsTokenFromSecret } from '../secret';

function fail(msg: string): never {
  process.stderr.write(`session-runner: ${msg}\n`);
  process.exit(2);
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      'session-id': { type: 'string' },
      'work-secret-file': { type: 'string' },
      workdir: { type: 'string' },
      'max-idle-ms': { type: 'string' },
    },
    strict: true,
  });
  const sessionId = values['session-id'] ?? fail('--session-id: required');
  const secretFile = values['work-secret-file'] ?? fail('--work-secret-file: required');
  const workdir = values.workdir ?? fail('--workdir: required');
  const baseURL = process.env.ANTHROPIC_BASE_URL || 'https://api.anthropic.com';
  // Read once and removed, so the brain's bash (same user) cannot read the token afterwards.
  const token = sessionsTokenFromSecret(readFileSync(secretFile, 'utf8').trim());
  rmSync(secretFile, { force: true });
  if (!token) fail('--work-secret-file: no sessions_token in the work secret');

  const proxy = proxyFromEnv(process.env);
  const client = new Anthropic({
    apiKey: null,
    authToken: token,
    baseURL,
    // Inside the sandbox the proxy is the only way out; Node's fetch ignores HTTPS_PROXY.
    fetch: undiciFetch as unknown as typeof fetch,
    // undici's fetch reads `dispatcher` from the init; the SDK passes fetchOptions through.
    ...(proxy ? { fetchOptions: { dispatcher: new ProxyAgent({ uri: proxy }) } as object } : {}),
  });
  const ctrl = new AbortController();
  // SIGTERM: stop taking calls; SessionToolRunner drains the one in flight (up to 30 s).
  process.once('SIGTERM', () => ctrl.abort());
  process.once('SIGINT', () => ctrl.abort());
  const runner = new SessionToolRunner(sessionId, {
    client,
    tools: [bashTool(workdir)],
    maxIdleMs: Number(values['max-idle-ms'] ?? 60_000),
    signal: ctrl.signal,
  });
  let calls = 0;
  for await (const call of runner) {
    calls++;
    process.stderr.write(`session-runner: ${call.name} ${call.toolUseId} ${call.isError ? 'error' : 'ok'}${call.posted ? '' : ' (not posted)'}\n`);
  }
  process.stdout.write(`${JSON.stringify({ calls })}\n`);
}

main().catch((e: unknown) => fail(e instanceof Error ? e.message : String(e)));
