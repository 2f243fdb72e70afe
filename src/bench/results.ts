import { z } from 'zod';

/** bench/results.json. Durations in ms; every figure comes from the one run that wrote the file. */
const Summary = z.object({ n: z.number().int().positive(), p50: z.number(), p95: z.number() });
const Lifecycle = z.object({
  /** Steps not run on a path are absent (a warm sandbox has no install step: it was installed ahead). */
  steps: z.partialRecord(z.enum(['create', 'install', 'policy', 'exec', 'delete']), Summary),
  total: Summary,
  /** create + policy + exec + delete: what the sandbox itself costs, without the agent's install. */
  sandboxOnly: Summary.optional(),
});
const ThroughputRow = z.object({
  concurrency: z.number().int().positive(),
  perMinute: z.number(),
  p50Ms: z.number(),
  wallMs: z.number(),
  checks: z.object({ completed: z.number().int(), sandboxesLeft: z.number().int() }),
});
const LogBenchRow = z.object({
  format: z.enum(['jsonl', 'text']),
  lines: z.number().int(),
  megabytes: z.number(),
  agentMs: z.number(),
  linesPerSecond: z.number(),
  agentCpuMs: z.number(),
  linesPerCpuSecond: z.number(),
  peakRssMb: z.number(),
  countMs: z.number(),
  countPeakRssMb: z.number(),
  ratioToCount: z.number(),
  checks: z.object({ onset: z.string().nullable(), suspectedChange: z.string().nullable(), topError: z.string().nullable() }),
});

export const Target = z.object({ metric: z.string(), value: z.number(), unit: z.string(), target: z.string(), met: z.boolean() });
export type Target = z.infer<typeof Target>;

export const BenchResults = z.object({
  version: z.literal(1),
  generatedAt: z.string(),
  quick: z.boolean(),
  machine: z.object({ cpus: z.number().int(), node: z.string(), loadAvgStart: z.array(z.number()), loadAvgEnd: z.array(z.number()) }),
  settings: z.object({
    scenario: z.string(),
    modelDelayMs: z.number(),
    poolSize: z.number().int(),
    lifecycleIterations: z.number().int(),
    endToEndRuns: z.number().int(),
    concurrency: z.array(z.number().int()),
    maxConcurrentActivities: z.number().int(),
  }),
  lifecycle: z.object({
    agent: z.string(),
    cold: Lifecycle,
    pool: Lifecycle,
    poolGain: z.number(),
    /** bubblewrap alone running /bin/true, same process, same run: the floor the lifecycle is compared with. */
    bareBwrap: Summary.optional(),
  }),
  endToEnd: z.object({
    baselineSequential: Summary,
    baselineParallel: Summary,
    temporal: Summary,
    temporalPool: Summary,
    // Ratios are medians of run-by-run ratios (each round runs the four variants back to back).
    /** temporal / baselineParallel. */
    overheadRatio: z.number(),
    /** baselineSequential / baselineParallel: parallelism without Temporal. */
    parallelSpeedup: z.number(),
    /** baselineSequential / temporal: the product against the seed's sequential dispatch. */
    temporalSpeedup: z.number(),
    /** baselineSequential / temporalPool. */
    temporalPoolSpeedup: z.number(),
    /** temporal / temporalPool. */
    poolGain: z.number(),
    /**
     * A sequential run's time over its slowest specialist's (median over runs): the speedup a
     * parallel run would reach on unlimited cores with the same per-specialist cost.
     */
    parallelCeiling: z.number(),
  }),
  throughput: z.object({ cold: z.array(ThroughputRow), pool: z.array(ThroughputRow) }),
  /** The log agent's evidence pass at 100k / 1M (/ 10M) lines (src/bench/logs.ts). */
  logs: z.array(LogBenchRow).optional(),
  targets: z.array(Target),
});
export type BenchResults = z.infer<typeof BenchResults>;
