import { round } from './stats';
import type { BenchResults, Target } from './results';

type Measured = Omit<BenchResults, 'targets'>;

/** The targets, judged on this run's figures. */
export function judgeTargets(r: Measured): Target[] {
  const e = r.endToEnd;
  const overheadPct = round((e.overheadRatio - 1) * 100);
  return [
    { metric: 'sandbox lifecycle p50, local driver, cold', value: r.lifecycle.cold.total.p50, unit: 'ms', target: '< 150 ms', met: r.lifecycle.cold.total.p50 < 150 },
    ...(r.lifecycle.cold.sandboxOnly
      ? [{ metric: 'sandbox lifecycle p50 without install, local driver, cold', value: r.lifecycle.cold.sandboxOnly.p50, unit: 'ms', target: '<= 100 ms', met: r.lifecycle.cold.sandboxOnly.p50 <= 100 }]
      : []),
    { metric: 'sandbox lifecycle p50, local driver, warm pool', value: r.lifecycle.pool.total.p50, unit: 'ms', target: '< 150 ms', met: r.lifecycle.pool.total.p50 < 150 },
    { metric: 'Temporal overhead vs parallel no-Temporal baseline', value: overheadPct, unit: '%', target: '< 15%', met: overheadPct < 15 },
    { metric: 'parallel speedup over sequential, no Temporal', value: e.parallelSpeedup, unit: 'x', target: '>= 2.7x', met: e.parallelSpeedup >= 2.7 },
    { metric: 'speedup of a Temporal investigation over sequential', value: e.temporalSpeedup, unit: 'x', target: '>= 2.7x', met: e.temporalSpeedup >= 2.7 },
    { metric: 'speedup of a Temporal + warm pool investigation over sequential', value: e.temporalPoolSpeedup, unit: 'x', target: '>= 2.7x', met: e.temporalPoolSpeedup >= 2.7 },
  ];
}
