import { mkdtemp, readdir, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { replayHistories } from '../src/workers/replay';
import { specialistProgressQuery } from '../src/workflows/progress';
import { FAKE_ANT, type Shim, startShim } from './support/shim';
import { withStubAgents } from './support/stub-agents';
import { startTestStack, type TestStack } from './support/worker';
import { until } from './support/until';

// The specialists' runner is stubbed inside the real sandboxes (see stub-agents), so no bundle
// of the real agents is needed here.
vi.mock('../src/agents/bundle', () => ({
  buildAgentBundle: async () => {
    const f = path.join(await mkdtemp(path.join(tmpdir(), 'bh-stub-agent-')), 'agent.mjs');
    await writeFile(f, '// stub\n');
    return f;
  },
}));

describe('managedSession: the ant worker shim, dispatch and cleanup', () => {
  let stack: TestStack;
  let stateDir: string;
  const secrets = new Map<string, string>();

  beforeAll(async () => {
    stateDir = await mkdtemp(path.join(tmpdir(), 'bh-test-state-'));
    stack = await startTestStack({
      // The stubbed metrics agent never queries it, but its policy requires a Prometheus target.
      env: { BULKHEAD_STATE_DIR: stateDir, BULKHEAD_ANT_BIN: FAKE_ANT, PROMETHEUS_URL: 'http://127.0.0.1:9' },
      wrapDriver: (d) => withStubAgents(d),
    });
  });
  afterAll(() => stack?.stop());

  function shim(sessionId: string, metadata: Record<string, string>): Shim {
    const sh = startShim({ sessionId, metadata, temporalAddress: stack.config.TEMPORAL_ADDRESS!, taskQueue: stack.taskQueue, stateDir });
    secrets.set(sessionId, sh.environmentKey);
    return sh;
  }

  async function childIds(parent: string): Promise<string[]> {
    const ids: string[] = [];
    for await (const wf of stack.client.workflow.list({ query: `WorkflowType = "runSpecialist" AND WorkflowId STARTS_WITH "${parent}/"` })) {
      ids.push(wf.workflowId);
    }
    return ids.sort();
  }

  it('runs ant in a session sandbox, answers three parallel dispatches and one more, and cleans up', async () => {
    const sessionId = `sesn_ok_${Date.now()}`;
    const sh = shim(sessionId, { forbidden: stack.config.TEMPORAL_ADDRESS! });
    const { code } = await sh.exit;
    expect(code, sh.output()).toBe(0);

    const handle = stack.client.workflow.getHandle(`session-${sessionId}`);
    expect((await handle.describe()).status.name).toBe('COMPLETED');
    const out = await handle.result();
    expect(out.sandbox.deleted).toBe(true);
    expect(out.dispatches.map((d: { agent: string }) => d.agent).sort()).toEqual(['log_agent', 'log_agent', 'metrics_agent', 'runbook_agent']);
    expect(out.dispatches.every((d: { ok: boolean }) => d.ok)).toBe(true);

    // Each dispatch ran as a runSpecialist child named after the session, and its summary (what
    // dispatch printed) was redacted on the worker's side.
    const ids = await childIds(handle.workflowId);
    expect(ids).toEqual(['log_agent-1', 'log_agent-2', 'metrics_agent-1', 'runbook_agent-1'].map((s) => `${handle.workflowId}/${s}`));
    for (const id of ids) {
      const r = await stack.client.workflow.getHandle(id).result();
      expect(r.status).toBe('completed');
      expect(r.result.summary).not.toContain('alice@example.com');
      expect(r.sandbox.deleted).toBe(true);
    }
    // The three parallel dispatches ran as overlapping children, not one after another.
    const spans = await Promise.all(
      ['metrics_agent-1', 'log_agent-1', 'runbook_agent-1'].map(async (s) => {
        const d = await stack.client.workflow.getHandle(`${handle.workflowId}/${s}`).describe();
        return [d.startTime.getTime(), d.closeTime!.getTime()] as const;
      }),
    );
    expect(Math.max(...spans.map((x) => x[0]))).toBeLessThan(Math.min(...spans.map((x) => x[1])));
    expect(await stack.local.list()).toEqual([]);
    expect(await readdir(path.join(stateDir, 'sessions'))).toEqual([]);
  });

  it('keeps the environment key out of every history it produced', async () => {
    const [sessionId, key] = [...secrets.entries()][0]!;
    const parent = `session-${sessionId}`;
    for (const id of [parent, ...(await childIds(parent))]) {
      // Payload bytes as text, so the search sees inputs, results and Update arguments.
      const text = JSON.stringify(await stack.client.workflow.getHandle(id).fetchHistory(), (_k, v) =>
        v instanceof Uint8Array ? Buffer.from(v).toString('utf8') : v,
      );
      expect(text).toContain(sessionId);
      expect(text).not.toContain(key);
    }
  });

  it('replays the session it just ran deterministically (what `bulkhead replay ID` does)', async () => {
    const [sessionId] = [...secrets.keys()];
    const workflowId = `session-${sessionId}`;
    const history = await stack.client.workflow.getHandle(workflowId).fetchHistory();
    expect(await replayHistories([{ workflowId, history }])).toEqual([{ workflowId, error: null, nondeterministic: false }]);
  });

  it('on SIGTERM mid-dispatch cancels the session within the grace period and deletes every sandbox', async () => {
    const sessionId = `sesn_term_${Date.now()}`;
    const sh = shim(sessionId, { mode: 'hang' });
    const childId = `session-${sessionId}/log_agent-1`;
    await until(async () => {
      const p = await stack.client.workflow.getHandle(childId).query(specialistProgressQuery).catch(() => null);
      return p?.step === 'run';
    });
    expect((await stack.local.list()).length).toBe(2);
    // A poller that restarts runs the shim again for the same session: it joins, starts nothing.
    const again = shim(sessionId, { mode: 'hang' });
    const runId = (await stack.client.workflow.getHandle(`session-${sessionId}`).describe()).runId;
    await until(async () => again.output().includes(`(run ${runId})`), 30_000);
    expect((await stack.local.list()).length).toBe(2);
    const t0 = Date.now();
    sh.kill('SIGTERM');
    const { code } = await sh.exit;
    expect(Date.now() - t0).toBeLessThan(30_000);
    expect(code, sh.output()).toBe(0);
    expect((await stack.client.workflow.getHandle(`session-${sessionId}`).describe()).status.name).toBe('CANCELLED');
    expect((await stack.client.workflow.getHandle(childId).describe()).status.name).toBe('CANCELLED');
    expect(await stack.local.list()).toEqual([]);
    // The joined shim sees the session end too (cancelled by the other one) and exits.
    expect((await again.exit).code).toBe(1);
    expect(await readdir(path.join(stateDir, 'sessions'))).toEqual([]);
  });
});
