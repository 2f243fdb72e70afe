/**
 * SIGKILL the worker while several investigations run, start a new one: every investigation
 * completes, no specialist that had finished runs again, and no sandbox is left. Heavy variant
 * (BULKHEAD_HEAVY_TESTS=1): three batches of four investigations, two kills at random points each.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Report } from '../../src/schemas/report';
import { startProcessStack, type ProcessStack } from '../support/process-stack';
import { readRunLog, specialistOf, until, type RunLogEntry } from '../support/until';

const HEAVY = process.env.BULKHEAD_HEAVY_TESTS === '1';

/** Specialists (sandbox bases) whose agent run had succeeded by the time `entries` were read. */
const finished = (entries: RunLogEntry[]) =>
  new Set(entries.filter((e) => e.event === 'end' && e.exitCode === 0).map((e) => specialistOf(e.sandbox)));
const inFlight = (entries: RunLogEntry[]) => {
  const open = new Set<string>();
  for (const e of entries) {
    if (e.event === 'start') open.add(e.sandbox);
    else open.delete(e.sandbox);
  }
  return open;
};

/** Every specialist ran its agent to success exactly once, and never started again after that. */
function expectNoRerun(entries: RunLogEntry[]): void {
  const done = new Set<string>();
  for (const e of entries) {
    const s = specialistOf(e.sandbox);
    expect(done.has(s), `${e.sandbox} ${e.event} after its specialist had finished`).toBe(false);
    if (e.event === 'end' && e.exitCode === 0) done.add(s);
  }
}

async function expectAllComplete(stack: ProcessStack, ids: string[]): Promise<Report[]> {
  const reports = await Promise.all(ids.map(async (id) => Report.parse(await stack.client.workflow.getHandle(id).result())));
  for (const r of reports) {
    expect(r.status, JSON.stringify(r.reasons)).toBe('completed');
    expect(r.specialists.map((s) => s.agent).sort()).toEqual(['log_agent', 'metrics_agent', 'runbook_agent']);
    for (const s of r.specialists) {
      expect(s.sandbox.deleted).toBe(true);
      // The brain dispatched each agent once: no child was started twice.
      expect(s.workflowId).toMatch(/-1$/);
    }
  }
  return reports;
}

describe('worker killed with SIGKILL mid-investigation', () => {
  let stack: ProcessStack;
  beforeAll(async () => {
    // Agent runs are held 1.5 s so a kill lands while some run and others have finished.
    stack = await startProcessStack({ env: { BULKHEAD_TEST_RUN_DELAY_MS: '1500' } });
  });
  afterAll(() => stack?.stop());

  it('resumes on a new worker: all complete, finished specialists do not run again, no sandbox left', async () => {
    const w1 = await stack.spawn();
    const ids = [0, 1, 2].map((i) => `incident-kill-${Date.now()}-${i}`);
    for (const id of ids) await stack.start(id);
    // Kill once at least one specialist has finished and another is inside its agent run.
    await until(async () => {
      const log = await readRunLog(stack.runLog);
      return finished(log).size >= 1 && inFlight(log).size >= 1;
    }, 90_000, 'a finished and a running specialist');
    await w1.kill();
    const atKill = await readRunLog(stack.runLog);
    const lostRuns = inFlight(atKill);
    expect(finished(atKill).size).toBeGreaterThan(0);
    // The dead worker's sandboxes are still on disk, their processes gone with it.
    const orphans = await stack.local.list();
    expect(orphans.length).toBeGreaterThan(0);

    const w2 = await stack.spawn();
    await expectAllComplete(stack, ids);
    const log = await readRunLog(stack.runLog);
    expectNoRerun(log);
    // A run lost with the worker was redone in a fresh incarnation by the new worker.
    for (const lost of lostRuns) {
      expect(log.some((e) => e.pid === w2.pid && e.event === 'end' && e.exitCode === 0 && specialistOf(e.sandbox) === specialistOf(lost))).toBe(true);
    }
    expect(await stack.local.list()).toEqual([]);
  }, 240_000);

  // Two kills per batch: a specialist may lose its sandbox at each, and runSpecialist replaces a
  // lost sandbox at most twice (MAX_INCARNATIONS = 3) before it gives up.
  it.skipIf(!HEAVY)('survives repeated SIGKILLs at random points (heavy: BULKHEAD_HEAVY_TESTS=1)', async () => {
    let w = await stack.spawn();
    for (let batch = 0; batch < 3; batch++) {
      const ids = [0, 1, 2, 3].map((i) => `incident-kills-${Date.now()}-${batch}-${i}`);
      for (const id of ids) await stack.start(id);
      for (let k = 0; k < 2; k++) {
        await new Promise((r) => setTimeout(r, 1000 + Math.random() * 8000));
        await w.kill();
        w = await stack.spawn();
      }
      await expectAllComplete(stack, ids);
      expectNoRerun(await readRunLog(stack.runLog));
      expect(await stack.local.list()).toEqual([]);
    }
  }, 900_000);
});
