import { ScheduleOverlapPolicy } from '@temporalio/client';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ReapResult } from '../src/sandbox/reap';
import { REPO_ROOT } from '../src/stack/tools';
import { sandboxBase } from '../src/workflows/ids';
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
