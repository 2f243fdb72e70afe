import { readdir } from 'node:fs/promises';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { writeFile } from 'node:fs/promises';
import { specialistProgressQuery } from '../src/workflows/progress';
import { historyText } from './support/agents';
import { type Standin, startStandin } from './support/managed-agents-standin';
import { runLikePoller } from './support/shim';
import { withStubAgents } from './support/stub-agents';
import { startTestStack, type TestStack } from './support/worker';
import { until } from './support/until';

vi.mock('../src/agents/bundle', () => ({
  buildAgentBundle: async () => {
    const f = path.join(await mkdtemp(path.join(tmpdir(), 'bh-stub-agent-')), 'agent.mjs');
    await writeFile(f, '// stub\n');
    return f;
  },
}));

// A short lease (heartbeat every 2 s) so a lost lease or a server-side stop shows within seconds.
describe('bin/bulkhead-on-work run as `ant beta:worker poll` runs it, and the lease', () => {
  let api: Standin;
  let stack: TestStack;
  let stateDir: string;
  let shimEnv: Record<string, string>;

  beforeAll(async () => {
    api = await startStandin({ ttlSeconds: 4 });
    stateDir = await mkdtemp(path.join(tmpdir(), 'bh-test-state-'));
    stack = await startTestStack({
      env: { BULKHEAD_STATE_DIR: stateDir, ANTHROPIC_BASE_URL: api.url, PROMETHEUS_URL: 'http://127.0.0.1:9', BULKHEAD_SESSION_MAX_IDLE_MS: '1500' },
      wrapDriver: (d) => withStubAgents(d),
    });
    // The poller's own environment (the script inherits it), as a site would set it.
    shimEnv = { PATH: process.env.PATH!, HOME: process.env.HOME!, TEMPORAL_ADDRESS: stack.config.TEMPORAL_ADDRESS!, BULKHEAD_TASK_QUEUE: stack.taskQueue, BULKHEAD_STATE_DIR: stateDir };
  });
  afterAll(async () => {
    await stack?.stop();
    await api?.close();
  });

  it('serves the session with the secret from stdin, blocks until it ends, and leaves nothing behind', async () => {
    const { sessionId } = api.addSession(['dispatch log_agent "top errors since 14:28"', 'echo "${ANTHROPIC_ENVIRONMENT_KEY:-unset}"']);
    const shim = await runLikePoller(api, shimEnv);
    const { code, stopStatus } = await shim.exit;
    expect(code, shim.output()).toBe(0);
    // The workflow force-stopped the item on exit; the poller's own graceful stop finds it stopped.
    expect(stopStatus).toBe(409);
    expect(api.work(shim.workId).stops).toEqual([{ force: true, auth: 'session' }]);
    const calls = api.calls(sessionId);
    expect(calls[0]!.text).toContain('log_agent looked at: top errors since 14:28');
    expect(calls[1]!.text).toBe('unset\n');
    const out = await stack.client.workflow.getHandle(`work-${shim.workId}`).result();
    expect(out).toMatchObject({ end: 'runner_done', stopped: true, sandbox: { deleted: true } });
    expect(await stack.local.list()).toEqual([]);
    expect(await readdir(path.join(stateDir, 'work'))).toEqual([]);
    const text = await historyText(stack.client, `work-${shim.workId}`);
    expect(text).not.toContain(api.environmentKey);
    expect(text).not.toContain(api.work(shim.workId).sessionsToken);
  }, 300_000);

  it('a dormant session woken by a new message is a new work item: a workflow of its own, keyed by work id', async () => {
    const { sessionId } = api.addSession(['echo one']);
    const first = await runLikePoller(api, shimEnv);
    expect((await first.exit).code, first.output()).toBe(0);
    const secondId = api.wakeSession(sessionId, ['echo two']);
    const second = await runLikePoller(api, shimEnv);
    expect(second.workId).toBe(secondId);
    expect((await second.exit).code, second.output()).toBe(0);
    expect(api.calls(sessionId).map((c) => c.text)).toEqual(['one\n', 'two\n']);
    for (const w of [first.workId, second.workId]) {
      expect(await stack.client.workflow.getHandle(`work-${w}`).result()).toMatchObject({ sessionId, end: 'runner_done', stopped: true });
    }
    expect(await stack.local.list()).toEqual([]);
  }, 300_000);

  it('on the poller SIGTERM cancels the session mid-dispatch within the 30 s grace and deletes every sandbox', async () => {
    api.addSession(['dispatch log_agent "HANG until cancelled"']);
    const shim = await runLikePoller(api, shimEnv);
    const wf = `work-${shim.workId}`;
    await until(async () => (await stack.client.workflow.getHandle(`${wf}/log_agent-1`).query(specialistProgressQuery).catch(() => null))?.step === 'run', 120_000);
    expect((await stack.local.list()).length).toBe(2);
    shim.terminate();
    const { code, signal } = await shim.exit;
    // Exited by itself (code 0), before the poller's SIGKILL.
    expect({ code, signal }, shim.output()).toEqual({ code: 0, signal: null });
    expect((await stack.client.workflow.getHandle(wf).describe()).status.name).toBe('CANCELLED');
    expect((await stack.client.workflow.getHandle(`${wf}/log_agent-1`).describe()).status.name).toBe('CANCELLED');
    expect(await stack.local.list()).toEqual([]);
    expect(api.work(shim.workId).state).toBe('stopped');
  }, 300_000);

  it('refuses a work item without a usable .secret before starting anything (exit 2, the field named)', async () => {
    api.addSession(['true']);
    const { spawn } = await import('node:child_process');
    const { ON_WORK } = await import('./support/shim');
    const child = spawn(ON_WORK, [], { env: { ...shimEnv, ANTHROPIC_WORK_ID: 'work_x', ANTHROPIC_ENVIRONMENT_ID: api.environmentId, ANTHROPIC_SESSION_ID: 'sesn_x' }, stdio: ['pipe', 'pipe', 'pipe'] });
    let err = '';
    child.stderr.on('data', (c) => (err += c));
    child.stdin.end(JSON.stringify({ id: 'work_x', type: 'work', data: { type: 'session', id: 'sesn_x' }, secret: null }));
    const code = await new Promise((r) => child.once('exit', r));
    expect(code).toBe(2);
    expect(err).toContain('stdin.secret');
    expect((await stack.client.workflow.getHandle('work-work_x').describe().catch(() => null))).toBeNull();
  });

  it('ends cleanly within seconds when the lease is lost (412): no stop for an item that is not ours', async () => {
    api.addSession(['sleep 600']);
    const shim = await runLikePoller(api, shimEnv);
    await until(() => api.work(shim.workId).state === 'active' && api.calls(api.work(shim.workId).sessionId).length === 1, 120_000);
    await until(async () => (await stack.local.list()).length === 1, 60_000);
    const t0 = Date.now();
    api.stealLease(shim.workId);
    const { code } = await shim.exit;
    expect(code, shim.output()).toBe(0);
    expect(Date.now() - t0).toBeLessThan(45_000);
    const out = await stack.client.workflow.getHandle(`work-${shim.workId}`).result();
    expect(out).toMatchObject({ end: 'lease_lost', stopped: false, sandbox: { deleted: true } });
    expect(api.work(shim.workId).stops.filter((s) => s.auth === 'session')).toEqual([]);
    expect(await stack.local.list()).toEqual([]);
  }, 300_000);

  it('ends cleanly within seconds on a server-side stop (heartbeat says stopping)', async () => {
    api.addSession(['sleep 600']);
    const shim = await runLikePoller(api, shimEnv);
    await until(() => api.work(shim.workId).state === 'active' && api.calls(api.work(shim.workId).sessionId).length === 1, 120_000);
    await until(async () => (await stack.local.list()).length === 1, 60_000);
    const t0 = Date.now();
    api.requestStop(shim.workId);
    const { code } = await shim.exit;
    expect(code, shim.output()).toBe(0);
    expect(Date.now() - t0).toBeLessThan(45_000);
    const out = await stack.client.workflow.getHandle(`work-${shim.workId}`).result();
    expect(out).toMatchObject({ end: 'stopping', stopped: true, sandbox: { deleted: true } });
    expect(api.work(shim.workId).stops).toEqual([{ force: true, auth: 'session' }]);
    expect(await stack.local.list()).toEqual([]);
  }, 300_000);
});
