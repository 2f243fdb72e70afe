/**
 * Sandbox driver faults against real sandboxes: transient ones (create, self-check, delete, a
 * run that hangs past its timeout) are retried and the investigation completes; permanent ones
 * (an install the driver refuses, an agent that always crashes) fail that specialist once, the
 * report says what failed, and every sandbox is deleted either way.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Report } from '../../src/schemas/report';
import { omFilesOf } from '../../src/stack/prometheus';
import { withFaults } from '../support/faulty-driver';
import { SCENARIO_DIR } from '../support/process-stack';
import { startTestStack, type TestStack } from '../support/worker';

describe('sandbox driver faults', () => {
  let stack: TestStack;
  let faults: ReturnType<typeof withFaults>;
  // Swaps the injected faults between tests; the worker keeps the same wrapper object.
  const inject = (f: Parameters<typeof withFaults>[1]) => {
    const next = withFaults(stack.local, f);
    Object.assign(faults.driver, next.driver);
    faults.calls = next.calls;
  };
  beforeAll(async () => {
    stack = await startTestStack({
      omFiles: await omFilesOf(SCENARIO_DIR),
      runTimeoutSeconds: 4,
      wrapDriver: (d) => ((faults = withFaults(d, {})), faults.driver),
    });
  });
  afterAll(() => stack?.stop());

  const run = async (id: string) =>
    Report.parse(
      await (await stack.client.workflow.start('investigateIncident', { taskQueue: stack.taskQueue, workflowId: id, args: [{ scenarioDir: SCENARIO_DIR }] })).result(),
    );

  it('retries transient create, install and delete failures and a hung run; completes clean', async () => {
    inject({ failCreates: 2, failSelfChecks: 1, failDeletes: 2, hangRuns: 1 });
    const report = await run(`incident-driver-transient-${Date.now()}`);
    expect(report.status, JSON.stringify(report.reasons)).toBe('completed');
    expect(faults.calls).toMatchObject({ failedCreates: 2, failedInstalls: 1, failedDeletes: 2 });
    // The hung run timed out and was run again in the same sandbox.
    expect(report.specialists.reduce((n, s) => n + s.attempts, 0)).toBe(4);
    for (const s of report.specialists) expect(s.sandbox).toMatchObject({ created: true, deleted: true });
    expect(await stack.local.list()).toEqual([]);
  });

  it('fails a permanently broken install at once and a crashing agent after its retries: partial, with the reasons', async () => {
    inject({ breakInstall: /^bh-r-/, breakRuns: /^bh-l-/ });
    const report = await run(`incident-driver-permanent-${Date.now()}`);
    expect(report.status).toBe('partial');
    const byAgent = Object.fromEntries(report.specialists.map((s) => [s.agent, s]));
    expect(byAgent.metrics_agent!.status).toBe('completed');
    expect(byAgent.runbook_agent).toMatchObject({ status: 'failed', attempts: 0 });
    expect(byAgent.runbook_agent!.error).toContain('refused (permanent)');
    // Non-retryable: one install attempt, not four.
    expect(faults.calls.failedInstalls).toBe(1);
    expect(byAgent.log_agent).toMatchObject({ status: 'failed', attempts: 3 });
    expect(byAgent.log_agent!.error).toMatch(/log_agent exited 3: .*injected failure/);
    expect(report.reasons).toEqual(
      expect.arrayContaining([expect.stringMatching(/^runbook_agent failed: .*refused/), expect.stringMatching(/^log_agent failed: .*exited 3/)]),
    );
    for (const s of report.specialists) expect(s.sandbox).toMatchObject({ created: true, deleted: true });
    expect(await stack.local.list()).toEqual([]);
  });
});
