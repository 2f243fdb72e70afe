/**
 * `temporal workflow cancel` runs the cleanup code: every sandbox is gone within seconds.
 * `temporal workflow terminate` runs none: the sandboxes stay until the reaper (the function, and
 * `bulkhead sandbox reap`) deletes them, while it keeps those a running investigation owns.
 */
import { execFile } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { reapOrphans } from '../../src/sandbox/reap';
import { omFilesOf } from '../../src/stack/prometheus';
import { REPO_ROOT, temporalBin } from '../../src/stack/tools';
import { investigationProgress } from '../../src/workflows/progress';
import { withFaults } from '../support/faulty-driver';
import { SCENARIO_DIR } from '../support/process-stack';
import { until } from '../support/until';
import { startTestStack, type TestStack } from '../support/worker';

const run = promisify(execFile);

describe('cancel and terminate', () => {
  let stack: TestStack;
  beforeAll(async () => {
    // Every agent run hangs, so the investigations sit with live sandboxes until we act.
    stack = await startTestStack({
      omFiles: await omFilesOf(SCENARIO_DIR),
      runTimeoutSeconds: 240,
      wrapDriver: (d) => withFaults(d, { hangRuns: 1_000 }).driver,
    });
  });
  afterAll(() => stack?.stop());

  const temporal = (...args: string[]) => run(temporalBin(), [...args, '--address', stack.config.TEMPORAL_ADDRESS!]);
  /** Starts an investigation and waits until both first-turn specialists sit in their runs. */
  async function running(id: string) {
    const handle = await stack.client.workflow.start('investigateIncident', { taskQueue: stack.taskQueue, workflowId: id, args: [{ scenarioDir: SCENARIO_DIR }] });
    await until(async () => {
      const p = await handle.query(investigationProgress).catch(() => null);
      return !!p && p.specialists.length === 2 && p.specialists.every((s) => s.step === 'run');
    }, 90_000, `${id} running`);
    return handle;
  }
  const sandboxesOf = async (id: string) => {
    const mine = new Set<string>();
    for await (const wf of stack.client.workflow.list({ query: `WorkflowId STARTS_WITH "${id}/"` })) {
      for (const b of (wf.searchAttributes?.BulkheadSandbox as string[] | undefined) ?? []) mine.add(b);
    }
    return (await stack.local.list()).filter((s) => mine.has(s.id.replace(/-\d+$/, ''))).map((s) => s.id);
  };

  it('after `temporal workflow cancel` every sandbox is deleted within seconds', async () => {
    const id = `incident-cancel-${Date.now()}`;
    const handle = await running(id);
    expect(await sandboxesOf(id)).toHaveLength(2);
    await temporal('workflow', 'cancel', '--workflow-id', id);
    await until(async () => (await stack.local.list()).length === 0, 30_000, 'sandboxes deleted after cancel');
    await until(async () => (await handle.describe()).status.name === 'CANCELLED', 30_000, 'cancelled');
  });

  it('after `temporal workflow terminate` the reaper deletes the orphans and keeps the live ones', async () => {
    const ids = [`incident-term-a-${Date.now()}`, `incident-term-b-${Date.now()}`, `incident-live-${Date.now()}`];
    const [a, , live] = await Promise.all(ids.map(running));
    const liveSandboxes = (await sandboxesOf(ids[2]!)).sort();
    expect(liveSandboxes).toHaveLength(2);
    const left = async () => (await stack.local.list()).map((s) => s.id).sort();

    // A: terminated, so no cleanup runs and its sandboxes stay; `bulkhead sandbox reap` (what an
    // operator or the reaper Schedule runs) deletes them, with no grace for young sandboxes.
    await temporal('workflow', 'terminate', '--workflow-id', ids[0]!, '--reason', 'fault test');
    expect((await a!.describe()).status.name).toBe('TERMINATED');
    const orphansA = await sandboxesOf(ids[0]!);
    expect(orphansA).toHaveLength(2);
    const cli = await run(process.execPath, [path.join(REPO_ROOT, 'bin/bulkhead.mjs'), 'sandbox', 'reap', '--grace-seconds', '0'], {
      env: { PATH: process.env.PATH, HOME: process.env.HOME, TEMPORAL_ADDRESS: stack.config.TEMPORAL_ADDRESS, BULKHEAD_SANDBOX_ROOT: stack.sandboxRoot },
    });
    expect(cli.stdout).toContain('2 deleted');
    for (const id of orphansA) expect(cli.stdout).toContain(`deleted ${id}`);

    // B: the same through the function; the running investigation's sandboxes are kept each time.
    await temporal('workflow', 'terminate', '--workflow-id', ids[1]!, '--reason', 'fault test');
    const orphansB = await sandboxesOf(ids[1]!);
    expect(orphansB).toHaveLength(2);
    const r = await reapOrphans(stack.local, stack.client, 0, stack.stackId);
    expect(r.deleted.sort()).toEqual(orphansB.sort());
    expect(r.kept.sort()).toEqual(liveSandboxes);
    expect(await left()).toEqual(liveSandboxes);

    await live!.cancel();
    await until(async () => (await left()).length === 0, 30_000, 'sandboxes deleted after cancel');
  });
});
