import { ScheduleOverlapPolicy } from '@temporalio/client';
import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LABEL } from '../src/sandbox/labels';
import { LocalDriver } from '../src/sandbox/local';
import { reapOrphans, type ReapResult } from '../src/sandbox/reap';
import { StackDriver } from '../src/sandbox/stack';
import { REPO_ROOT } from '../src/stack/tools';
import { kindBase, sandboxBase, sandboxName } from '../src/workflows/ids';
import { investigationProgress } from '../src/workflows/progress';
import { ensureReaperSchedule } from '../src/workers/schedule';
import { withFaults } from './support/faulty-driver';
import { standIn } from './support/host';
import { specialistOf, until } from './support/until';
import { startTestStack, type TestStack } from './support/worker';

const scenarioDir = path.join(REPO_ROOT, 'scenarios/checkout-outage');

describe('the orphan reaper Schedule', () => {
  let stack: TestStack;
  let prometheus: Awaited<ReturnType<typeof standIn>>;
  // Its own id: the run's dev server is shared with other test files.
  const scheduleId = `bulkhead-reaper-test-${Date.now()}`;
  beforeAll(async () => {
    // Every agent run hangs, so sandboxes stay up until something deletes them.
    // The agents never run, so Prometheus need only be configured: a stand-in will do.
    prometheus = await standIn('prometheus-standin');
    stack = await startTestStack({ env: { PROMETHEUS_URL: prometheus.url }, wrapDriver: (d) => withFaults(d, { hangRuns: 99 }).driver });
  });
  afterAll(async () => {
    await stack?.client.schedule.getHandle(scheduleId).delete().catch(() => undefined);
    await stack?.stop();
    prometheus?.close();
  });

  const sandboxes = async () => (await stack.local.list()).map((s) => s.id).sort();

  it('is created, then updated in place, with overlapping sweeps skipped', async () => {
    await ensureReaperSchedule(stack.client, stack.taskQueue, '1h', { scheduleId });
    // A second worker starting up (here: with another interval) updates rather than fails.
    // The test's reaper has no grace for young sandboxes: the ones below are seconds old.
    await ensureReaperSchedule(stack.client, stack.taskQueue, '2h', { scheduleId, input: { graceMs: 0 } });
    const d = await stack.client.schedule.getHandle(scheduleId).describe();
    expect(d.spec.intervals).toMatchObject([{ every: 2 * 3600_000 }]);
    expect(d.policies.overlap).toBe(ScheduleOverlapPolicy.SKIP);
    expect(d.state.paused).toBe(false);
    expect(d.action).toMatchObject({ type: 'startWorkflow', workflowType: 'reapOrphans', taskQueue: stack.taskQueue, args: [{ graceMs: 0 }] });
  });

  it("deletes the sandboxes of a terminated investigation and keeps a running one's", async () => {
    const start = async (id: string) => {
      const h = await stack.client.workflow.start('investigateIncident', { taskQueue: stack.taskQueue, workflowId: id, args: [{ scenarioDir }] });
      // The offline planner's first turn: metrics and logs, both hanging in their sandboxes.
      await until(async () => {
        const p = await h.query(investigationProgress).catch(() => null);
        return !!p && p.specialists.length === 2 && p.specialists.every((s) => s.step === 'run');
      });
      return h;
    };
    const doomed = await start(`incident-test-reap-doomed-${Date.now()}`);
    const alive = await start(`incident-test-reap-alive-${Date.now()}`);
    const baseOfChild = async (wfId: string) => {
      const runId = (await stack.client.workflow.getHandle(wfId).describe()).runId;
      return sandboxBase(wfId.endsWith('metrics_agent-1') ? 'metrics_agent' : 'log_agent', wfId, runId);
    };
    const kids = (h: typeof doomed) => [`${h.workflowId}/log_agent-1`, `${h.workflowId}/metrics_agent-1`];
    const doomedBases = await Promise.all(kids(doomed).map(baseOfChild));
    const aliveBases = await Promise.all(kids(alive).map(baseOfChild));
    expect(await sandboxes()).toHaveLength(4);

    // Terminate runs no workflow code, so no cleanup: its sandboxes are orphans now.
    await doomed.terminate('test: leave orphans behind');
    for (const k of kids(doomed)) await until(async () => (await stack.client.workflow.getHandle(k).describe()).status.name !== 'RUNNING');
    // The reaper reads ownership from visibility: wait until it has caught up with the terminations.
    await until(async () => {
      let running = 0;
      for await (const _ of stack.client.workflow.list({ query: `WorkflowId STARTS_WITH "${doomed.workflowId}/" AND ExecutionStatus = "Running"` })) running++;
      return running === 0;
    });
    expect(await sandboxes()).toHaveLength(4);

    const schedule = stack.client.schedule.getHandle(scheduleId);
    await schedule.trigger();
    let runId: string | undefined;
    await until(async () => {
      const a = (await schedule.describe()).info.recentActions[0]?.action;
      runId = a?.type === 'startWorkflow' ? a.workflow.workflowId : undefined;
      return !!runId;
    });
    const result = (await stack.client.workflow.getHandle(runId!).result()) as ReapResult;
    expect(result.deleted.map(specialistOf).sort()).toEqual([...doomedBases].sort());
    const left = await sandboxes();
    expect(left.map(specialistOf).sort()).toEqual([...aliveBases].sort());

    await alive.cancel();
    await alive.result().catch(() => undefined);
    expect(await sandboxes()).toEqual([]);
  });
});

describe('one sandbox root, several stacks', () => {
  let stack: TestStack;
  let root: string;
  beforeAll(async () => {
    stack = await startTestStack();
    root = await mkdtemp(path.join(tmpdir(), 'bh-shared-root-'));
  });
  afterAll(async () => {
    const local = new LocalDriver({ root });
    for (const s of await local.list()) await local.delete(s.id);
    await rm(root, { recursive: true, force: true });
    await stack?.stop();
  });

  it("never reaps another stack's live sandbox, nor one Bulkhead did not make", async () => {
    // Two stacks (say two `bulkhead investigate` runs, each with its own dev server) on one root.
    const a = new StackDriver(new LocalDriver({ root }), 'stack-a');
    const b = new StackDriver(new LocalDriver({ root }), 'stack-b');
    const spec = (id: string) => ({ id, agent: 'log_agent' as const, owner: `incident-${id}/log_agent-1`, readOnly: [] });
    const liveOfA = sandboxName(kindBase('l', 'a-live'), 0);
    const orphanOfB = sandboxName(kindBase('l', 'b-orphan'), 0);
    await a.create(spec(liveOfA));
    await b.create(spec(orphanOfB));
    // Someone's own sandbox in the same root, made without Bulkhead's labels.
    const raw = new LocalDriver({ root });
    await raw.create({ ...spec('alice-dev'), id: 'alice-dev' });
    expect((await raw.list()).find((s) => s.id === liveOfA)?.labels[LABEL.stack]).toBe('stack-a');

    // B's reaper sees no running owner for any of them in ITS visibility (the real dev server):
    // without the labels it would delete all three; it deletes only its own orphan.
    const r = await reapOrphans(b, stack.client, 0, 'stack-b');
    expect(r.deleted).toEqual([orphanOfB]);
    // Even over the whole root (the raw driver lists everything), the rule holds.
    expect((await reapOrphans(raw, stack.client, 0, 'stack-b')).deleted).toEqual([]);
    expect((await raw.list()).map((s) => s.id).sort()).toEqual(['alice-dev', liveOfA].sort());
    // A's sandbox is not just on disk but live: it still runs commands.
    expect((await a.exec(liveOfA, ['/bin/echo', 'alive'])).stdout).toBe('alive\n');

    // The operator sees every sandbox with its stack, and may reap AS a named stack (say, a
    // crashed embedded run's): only that stack's orphans go, through the same rule.
    const cli = (args: string[]) =>
      promisify(execFile)(process.execPath, [path.join(REPO_ROOT, 'bin/bulkhead.mjs'), 'sandbox', ...args], {
        env: { PATH: process.env.PATH, HOME: process.env.HOME, BULKHEAD_SANDBOX_ROOT: root, TEMPORAL_ADDRESS: stack.config.TEMPORAL_ADDRESS },
        timeout: 60_000,
      });
    const list = (await cli(['list'])).stdout;
    expect(list).toMatch(new RegExp(`^${liveOfA}\\tlog_agent\\t\\S+\\tstack-a\\t`, 'm'));
    expect(list).toMatch(/^alice-dev\t.*\tnot bulkhead's\t/m);
    const reaped = (await cli(['reap', '--grace-seconds', '0', '--stack', 'stack-a'])).stdout;
    expect(reaped).toContain(`deleted ${liveOfA}`);
    expect(reaped).toContain('1 deleted');
    expect((await raw.list()).map((s) => s.id)).toEqual(['alice-dev']);
  });
});
