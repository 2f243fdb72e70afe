import { WorkflowFailedError } from '@temporalio/client';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Report } from '../src/schemas/report';
import { omFilesOf } from '../src/stack/prometheus';
import { REPO_ROOT } from '../src/stack/tools';
import { investigationProgress } from '../src/workflows/progress';
import { withFaults } from './support/faulty-driver';
import { startTestStack, type TestStack } from './support/worker';
import { until } from './support/until';

const scenarioDir = path.join(REPO_ROOT, 'scenarios/checkout-outage');

describe('investigateIncident on a real dev server and real sandboxes', () => {
  let stack: TestStack;
  let faults: ReturnType<typeof withFaults>;
  beforeAll(async () => {
    // One agent run fails and one hangs past its timeout: both must be retried, and cleaned up.
    stack = await startTestStack({
      omFiles: await omFilesOf(scenarioDir),
      runTimeoutSeconds: 4,
      wrapDriver: (d) => (faults = withFaults(d, {}), faults.driver),
    });
  });
  afterAll(() => stack?.stop());

  const start = (id: string) =>
    stack.client.workflow.start('investigateIncident', { taskQueue: stack.taskQueue, workflowId: id, args: [{ scenarioDir }] });

  it('completes, reports every field, and deletes every sandbox it created', async () => {
    const handle = await start(`incident-test-complete-${Date.now()}`);
    const report = Report.parse(await handle.result());
    expect(report.status).toBe('completed');
    expect(report.brain.mode).toBe('offline');
    expect(report.specialists.map((s) => s.agent).sort()).toEqual(['log_agent', 'metrics_agent', 'runbook_agent']);
    for (const s of report.specialists) {
      expect(s.sandbox.created).toBe(true);
      expect(s.sandbox.deleted).toBe(true);
      expect(s.summary.length).toBeGreaterThan(0);
      expect(s.workflowId).toBe(`${handle.workflowId}/${s.agent}-1`);
    }
    expect(report.onset).not.toBeNull();
    expect(report.topErrors.length).toBeGreaterThan(0);
    expect(report.matchedIncidents[0]).toBe('INC-2847');
    expect(await stack.local.list()).toEqual([]);

    // The three children ran as children of this investigation, visible by name.
    const children = [];
    for await (const wf of stack.client.workflow.list({ query: `WorkflowType = "runSpecialist" AND WorkflowId STARTS_WITH "${handle.workflowId}/"` })) {
      children.push(wf.workflowId);
    }
    expect(children.length).toBe(3);
    // Each sandbox step is an activity whose summary names the agent and the step (for the UI).
    const logs = await stack.client.workflow.getHandle(`${handle.workflowId}/log_agent-1`).fetchHistory();
    const summaries = (logs.events ?? [])
      .filter((e) => e.activityTaskScheduledEventAttributes)
      .map((e) => JSON.parse(Buffer.from(e.userMetadata?.summary?.data ?? []).toString() || 'null'));
    expect(summaries).toEqual([
      expect.stringMatching(/^log_agent: create sandbox bh-l-/),
      expect.stringMatching(/^log_agent: install agent in /),
      expect.stringMatching(/^log_agent: apply policy to /),
      expect.stringMatching(/^log_agent: run agent in .* \(attempt 1\)$/),
      expect.stringMatching(/^log_agent: delete sandbox /),
    ]);
    const desc = await handle.describe();
    expect(desc.typedSearchAttributes.getAll().map((p) => [p.key.name, p.value])).toEqual(
      expect.arrayContaining([
        ['BulkheadService', 'checkout-service'],
        ['BulkheadStatus', 'completed'],
      ]),
    );
  });

  it('retries an agent that exits non-zero or hangs past its timeout, and still deletes its sandbox', async () => {
    faults.calls.runs = 0;
    const f = withFaults(stack.local, { failRuns: 1, hangRuns: 1 });
    Object.assign(faults.driver, { exec: f.driver.exec });
    const report = Report.parse(await (await start(`incident-test-retry-${Date.now()}`)).result());
    expect(report.status).toBe('completed');
    const attempts = report.specialists.map((s) => s.attempts).sort();
    // Two injected faults: either one agent took 3 attempts or two agents took 2.
    expect(attempts.reduce((a, b) => a + b, 0)).toBe(5);
    for (const s of report.specialists) expect(s.sandbox.deleted).toBe(true);
    expect(await stack.local.list()).toEqual([]);
  });

  it('deletes every sandbox when the investigation is cancelled mid-run', async () => {
    const f = withFaults(stack.local, { hangRuns: 99 });
    Object.assign(faults.driver, { exec: f.driver.exec });
    const handle = await start(`incident-test-cancel-${Date.now()}`);
    // Wait until the agents are running inside live sandboxes.
    await until(async () => {
      const p = await handle.query(investigationProgress).catch(() => null);
      // The offline planner's first turn: metrics and logs, in parallel.
      return !!p && p.specialists.length === 2 && p.specialists.every((s) => s.step === 'run');
    });
    expect((await stack.local.list()).length).toBe(2);
    await handle.cancel();
    await expect(handle.result()).rejects.toBeInstanceOf(WorkflowFailedError);
    expect(await stack.local.list()).toEqual([]);
    const desc = await handle.describe();
    expect(desc.status.name).toBe('CANCELLED');
    Object.assign(faults.driver, { exec: stack.local.exec.bind(stack.local) });
  });
});
