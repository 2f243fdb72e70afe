import { percentile, round } from './stats';
import { checkReport, type BenchWorker } from './temporal-side';

export interface ThroughputRow {
  concurrency: number;
  /** Investigations completed per minute of wall time. */
  perMinute: number;
  /** Median latency of one investigation in the batch, start to result. */
  p50Ms: number;
  wallMs: number;
  /** Verifications, not figures. */
  checks: { completed: number; sandboxesLeft: number };
}

/**
 * N investigations started at once (distinct workflow ids), all awaited. Each must complete
 * cleanly and, after the batch, the worker must hold no workflow sandbox.
 */
export async function measureThroughput(w: BenchWorker, scenarioDir: string, n: number): Promise<ThroughputRow> {
  await w.pool?.whenFull();
  const t0 = performance.now();
  const runs = await Promise.all(Array.from({ length: n }, () => w.investigate(scenarioDir)));
  const wallMs = performance.now() - t0;
  runs.forEach((r) => checkReport(r.report));
  // The worker's view: claimed and cold sandboxes (pool stock is the worker's own, not left over).
  const sandboxesLeft = (await w.driver.list()).length;
  if (sandboxesLeft) throw new Error(`${sandboxesLeft} sandbox(es) left after ${n} concurrent investigations`);
  return {
    concurrency: n,
    perMinute: round((n / wallMs) * 60_000, 2),
    p50Ms: round(percentile(runs.map((r) => r.ms), 50)),
    wallMs: round(wallMs),
    checks: { completed: runs.length, sandboxesLeft },
  };
}
