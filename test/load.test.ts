/**
 * Load: N concurrent investigations on one worker process (real agents, real sandboxes, the
 * offline brain). All complete, no sandbox is left, and the worker's peak memory stays bounded.
 * Default N = 1 and 5; N = 20 with BULKHEAD_HEAVY_TESTS=1. Set BULKHEAD_TEST_LOG=1 to print the
 * figures (duration, peak worker RSS, peak live sandboxes).
 *
 * Settings that matter: BULKHEAD_MAX_SANDBOXES caps the sandboxes a worker has alive at once
 * (a create at the cap is retried a second later, holding no activity slot) and sets the worker's
 * concurrent activity slots (2x). The test runs with a cap of 4, so N = 5 must queue.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Report } from '../src/schemas/report';
import type { WorkerProcess } from './support/spawn-worker';
import { startProcessStack, type ProcessStack } from './support/process-stack';

const HEAVY = process.env.BULKHEAD_HEAVY_TESTS === '1';
// Measured peaks (2 cores): ~420 MiB at N=1, ~650 at N=5, ~1170 at N=20 (workflow bundle and
// cache, agent results in flight). Generous bound, so a leak shows and noise does not.
const MAX_WORKER_RSS_MIB = 1536;
const SANDBOX_CAP = 4;

describe('concurrent investigations on one worker', () => {
  let stack: ProcessStack;
  let worker: WorkerProcess;
  beforeAll(async () => {
    stack = await startProcessStack();
    worker = await stack.spawn({ BULKHEAD_MAX_SANDBOXES: String(SANDBOX_CAP) });
  });
  afterAll(() => stack?.stop());

  async function load(n: number) {
    const t0 = Date.now();
    const handles = await Promise.all(Array.from({ length: n }, (_, i) => stack.start(`incident-load-${n}-${t0}-${i}`)));
    let peakSandboxes = 0;
    let done = false;
    const sampler = (async () => {
      while (!done) {
        peakSandboxes = Math.max(peakSandboxes, (await stack.local.list()).length);
        await new Promise((r) => setTimeout(r, 250));
      }
    })();
    const reports = await Promise.all(handles.map(async (h) => Report.parse(await h.result())));
    done = true;
    await sampler;
    for (const r of reports) {
      expect(r.status, JSON.stringify(r.reasons)).toBe('completed');
      expect(r.specialists).toHaveLength(3);
      for (const s of r.specialists) expect(s.sandbox.deleted).toBe(true);
    }
    expect(await stack.local.list()).toEqual([]);
    expect(peakSandboxes).toBeLessThanOrEqual(SANDBOX_CAP);
    const rss = worker.peakRssMiB();
    const figures = { n, seconds: (Date.now() - t0) / 1000, peakWorkerRssMiB: rss, peakSandboxes };
    if (process.env.BULKHEAD_TEST_LOG) console.log(`load ${JSON.stringify(figures)}`);
    expect(rss).not.toBeNull();
    expect(rss!).toBeLessThan(MAX_WORKER_RSS_MIB);
    return figures;
  }

  it('N = 1', () => load(1));
  it('N = 5', () => load(5), 300_000);
  it.skipIf(!HEAVY)('N = 20 (heavy: BULKHEAD_HEAVY_TESTS=1)', () => load(20), 900_000);
});
