import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { buildAgentBundle } from '../agents/bundle';
import { loadScenario } from '../scenario/load';
import { LocalDriver } from '../sandbox/local';
import { WarmPool } from '../sandbox/pool';
import type { AgentName } from '../schemas/agent';
import { startPrometheus } from '../stack/prometheus';
import { startDevServer } from '../stack/temporal';
import { REPO_ROOT } from '../stack/tools';
import { runBaseline } from './baseline';
import { startBrainStandin } from './brain-standin';
import { bareBwrap, LifecycleSamples } from './lifecycle';
import { startModelStandin } from './model-standin';
import type { BenchResults } from './results';
import { percentile, round, summarize, timed } from './stats';
import { plainInstall, type PlainDeps } from './steps';
import { judgeTargets } from './targets';
import { benchTasks } from './tasks';
import { checkReport, startBenchWorker } from './temporal-side';
import { measureThroughput } from './throughput';
import { benchLogs, logTargets } from './logs';

export interface BenchOptions {
  /** Few iterations, concurrency 1 and 2: a smoke run for CI, not figures to quote. */
  quick?: boolean;
  modelDelayMs?: number;
  poolSize?: number;
  /** BULKHEAD_MAX_SANDBOXES of the benchmark's workers (activities = 2x). */
  maxSandboxes?: number;
  scenarioDir?: string;
  log?: (line: string) => void;
  /** Line counts for the log section (default 100k and 1M; --quick: 100k). */
  logSizes?: number[];
}

const LIFECYCLE_AGENT: AgentName = 'log_agent';

/**
 * Median of run-by-run ratios a[i] / b[i]. The variants of one round run back to back, so a
 * ratio within a round cancels most of the drift in machine load that separate medians keep.
 */
function paired(a: number[], b: number[]): number {
  return percentile(a.map((v, i) => v / b[i]!), 50);
}

/**
 * Every figure in one process and one run: the sandbox lifecycle on the local driver, one
 * investigation against the no-Temporal baselines, and throughput, each without and with the
 * warm pool. Runs of the compared variants are interleaved so drift in machine load hits them alike.
 */
export async function runBench(opts: BenchOptions = {}): Promise<BenchResults> {
  const quick = !!opts.quick;
  const log = opts.log ?? (() => undefined);
  const iterations = quick ? 3 : 20;
  const runs = quick ? 1 : 5;
  const concurrency = quick ? [1, 2] : [1, 5, 20];
  const modelDelayMs = opts.modelDelayMs ?? 1000;
  const poolSize = opts.poolSize ?? 3;
  const maxSandboxes = opts.maxSandboxes ?? 8;
  const scenarioDir = path.resolve(opts.scenarioDir ?? path.join(REPO_ROOT, 'scenarios/checkout-outage'));
  const loadAvgStart = os.loadavg().map((l) => round(l, 2));

  const stops: (() => Promise<void>)[] = [];
  try {
    const scenario = await loadScenario(scenarioDir);
    const tasks = benchTasks(scenario.incident);
    const bundle = await buildAgentBundle();
    // Short: srt's unix sockets live under it and must fit in sun_path.
    const root = await mkdtemp('/tmp/bh-bench-');
    stops.push(() => rm(root, { recursive: true, force: true }));
    log('starting Prometheus, the model and brain stand-ins, and a Temporal dev server');
    const prom = await startPrometheus({ omFiles: scenario.omFiles });
    stops.push(() => prom.stop());
    const model = await startModelStandin(modelDelayMs);
    stops.push(() => model.close());
    const brain = await startBrainStandin(tasks);
    stops.push(() => brain.close());
    const server = await startDevServer({ uiPort: false });
    stops.push(() => server.stop());

    // --- sandbox lifecycle, cold and warm, no model involved ---
    const local = new LocalDriver({ root: path.join(root, 'plain') });
    const plain: PlainDeps = { driver: local, bundle, targets: { model: model.url, prometheus: prom.url }, model: { url: model.url, name: 'bench-model' } };
    const lifecyclePool = new WarmPool(local, { size: 1 });
    const pooled: PlainDeps = { ...plain, driver: lifecyclePool };
    lifecyclePool.start((id, agent) => plainInstall(pooled, id, agent as AgentName));
    const coldRuns = new LifecycleSamples(plain, LIFECYCLE_AGENT, scenario.sources);
    const poolRuns = new LifecycleSamples(pooled, LIFECYCLE_AGENT, scenario.sources);
    log(`sandbox lifecycle: ${iterations} cold and ${iterations} warm-pool runs, interleaved`);
    // Warm-up; for the pool, the first create of a mount set is the miss that registers it.
    await coldRuns.once(false);
    await poolRuns.once(false);
    for (let i = 0; i < iterations; i++) {
      await coldRuns.once();
      await poolRuns.once();
    }
    await lifecyclePool.close();
    const cold = coldRuns.result();
    const pool = poolRuns.result();
    const bare = await bareBwrap(iterations);

    // --- one investigation: Temporal (without and with pool) against the plain baselines ---
    const workerOpts = { address: server.address, prometheusUrl: prom.url, modelUrl: model.url, brainUrl: brain.url, maxSandboxes };
    const coldWorker = await startBenchWorker('cold', { ...workerOpts, sandboxRoot: path.join(root, 'cold'), poolSize: 0 });
    stops.push(() => coldWorker.stop());
    const poolWorker = await startBenchWorker('pool', { ...workerOpts, sandboxRoot: path.join(root, 'pool'), poolSize });
    stops.push(() => poolWorker.stop());
    log('warming up (workflow bundles, first investigation, pool fill)');
    checkReport((await coldWorker.investigate(scenarioDir)).report);
    checkReport((await poolWorker.investigate(scenarioDir)).report);
    await runBaseline(plain, scenarioDir, tasks, 'parallel');

    const samples = { baselineSequential: [] as number[], baselineParallel: [] as number[], temporal: [] as number[], temporalPool: [] as number[] };
    const ceilings: number[] = [];
    for (let i = 0; i < runs; i++) {
      log(`investigation ${i + 1}/${runs}: sequential, parallel, Temporal, Temporal + pool`);
      const seq = await timed(() => runBaseline(plain, scenarioDir, tasks, 'sequential'));
      samples.baselineSequential.push(seq.ms);
      ceilings.push(seq.ms / Math.max(...seq.value.specialistMs));
      samples.baselineParallel.push((await timed(() => runBaseline(plain, scenarioDir, tasks, 'parallel'))).ms);
      const t = await coldWorker.investigate(scenarioDir);
      checkReport(t.report);
      samples.temporal.push(t.ms);
      await poolWorker.pool!.whenFull();
      const tp = await poolWorker.investigate(scenarioDir);
      checkReport(tp.report);
      samples.temporalPool.push(tp.ms);
    }
    const e = {
      baselineSequential: summarize(samples.baselineSequential),
      baselineParallel: summarize(samples.baselineParallel),
      temporal: summarize(samples.temporal),
      temporalPool: summarize(samples.temporalPool),
    };

    // --- throughput ---
    const throughput = { cold: [] as Awaited<ReturnType<typeof measureThroughput>>[], pool: [] as Awaited<ReturnType<typeof measureThroughput>>[] };
    for (const n of concurrency) {
      log(`throughput: ${n} concurrent investigations, cold then warm pool`);
      throughput.cold.push(await measureThroughput(coldWorker, scenarioDir, n));
      throughput.pool.push(await measureThroughput(poolWorker, scenarioDir, n));
    }

    // Nothing may outlive the benchmark: the pool's stock goes with its worker.
    await coldWorker.stop();
    await poolWorker.stop();
    for (const d of [local, coldWorker.local, poolWorker.local]) {
      const left = await d.list();
      if (left.length) throw new Error(`sandboxes left behind in ${d.root}: ${left.map((s) => s.id).join(', ')}`);
    }

    // --- the log agent over large logs (fresh processes, nothing shared with the above) ---
    const logs = await benchLogs({ sizes: opts.logSizes ?? (quick ? [100_000] : [100_000, 1_000_000]), log });

    const measured = {
      version: 1 as const,
      generatedAt: new Date().toISOString(),
      quick,
      machine: { cpus: os.cpus().length, node: process.version, loadAvgStart, loadAvgEnd: os.loadavg().map((l) => round(l, 2)) },
      settings: {
        scenario: path.relative(REPO_ROOT, scenarioDir) || scenarioDir,
        modelDelayMs,
        poolSize,
        lifecycleIterations: iterations,
        endToEndRuns: runs,
        concurrency,
        maxConcurrentActivities: maxSandboxes * 2,
      },
      lifecycle: { agent: LIFECYCLE_AGENT, cold, pool, poolGain: round(cold.total.p50 / pool.total.p50, 2), bareBwrap: bare },
      endToEnd: {
        ...e,
        overheadRatio: round(paired(samples.temporal, samples.baselineParallel), 3),
        parallelSpeedup: round(paired(samples.baselineSequential, samples.baselineParallel), 2),
        temporalSpeedup: round(paired(samples.baselineSequential, samples.temporal), 2),
        temporalPoolSpeedup: round(paired(samples.baselineSequential, samples.temporalPool), 2),
        poolGain: round(paired(samples.temporal, samples.temporalPool), 2),
        parallelCeiling: round(percentile(ceilings, 50), 2),
      },
      throughput,
      logs,
    };
    return { ...measured, targets: [...judgeTargets(measured), ...logTargets(logs)] };
  } finally {
    for (const stop of stops.reverse()) await stop().catch(() => undefined);
  }
}
