import { Client, Connection } from '@temporalio/client';
import { randomBytes } from 'node:crypto';
import { loadConfig } from '../config';
import type { SandboxDriver } from '../sandbox/driver';
import { LocalDriver } from '../sandbox/local';
import { WarmPool } from '../sandbox/pool';
import type { Report } from '../schemas/report';
import { createWorker } from '../workers/worker';
import { timed } from './stats';

export interface BenchWorkerOptions {
  address: string;
  sandboxRoot: string;
  prometheusUrl: string;
  modelUrl: string;
  brainUrl: string;
  /** BULKHEAD_WARM_POOL for this worker; 0 is the product default. */
  poolSize: number;
  maxSandboxes: number;
}

export interface BenchWorker {
  label: string;
  /** The worker's driver: the pool when there is one. */
  driver: SandboxDriver;
  /** The local driver underneath: what is really on disk. */
  local: LocalDriver;
  pool: WarmPool | null;
  /** Runs one investigation of the scenario; its duration as the client sees it, start to result. */
  investigate(scenarioDir: string): Promise<{ ms: number; report: Report }>;
  stop(): Promise<void>;
}

/**
 * A real worker, in this process, on the real dev server, configured as a deployment would be
 * by its environment: the specialists' model and the brain are the local stand-ins.
 */
export async function startBenchWorker(label: string, o: BenchWorkerOptions): Promise<BenchWorker> {
  const taskQueue = `bench-${label}-${randomBytes(4).toString('hex')}`;
  const config = loadConfig({
    TEMPORAL_ADDRESS: o.address,
    BULKHEAD_TASK_QUEUE: taskQueue,
    BULKHEAD_SANDBOX_ROOT: o.sandboxRoot,
    PROMETHEUS_URL: o.prometheusUrl,
    BULKHEAD_MODEL_URL: o.modelUrl,
    BULKHEAD_MODEL: 'bench-model',
    // Selects the Anthropic brain activity; the stand-in takes any key.
    ANTHROPIC_API_KEY: 'bench-standin',
    ANTHROPIC_BASE_URL: o.brainUrl,
    BULKHEAD_WARM_POOL: String(o.poolSize),
    BULKHEAD_MAX_SANDBOXES: String(o.maxSandboxes),
  });
  const local = new LocalDriver({ root: o.sandboxRoot });
  const { worker, driver, close } = await createWorker({ config, address: o.address, driver: local, taskQueue });
  const running = worker.run();
  const connection = await Connection.connect({ address: o.address });
  const client = new Client({ connection });
  let seq = 0;
  let stopped: Promise<void> | null = null;
  return {
    label,
    driver,
    local,
    pool: driver instanceof WarmPool ? driver : null,
    async investigate(scenarioDir) {
      const workflowId = `incident-bench-${label}-${++seq}-${randomBytes(3).toString('hex')}`;
      const { value: report, ms } = await timed(async () => {
        const handle = await client.workflow.start('investigateIncident', { taskQueue, workflowId, args: [{ scenarioDir }] });
        return (await handle.result()) as Report;
      });
      return { ms, report };
    },
    stop() {
      stopped ??= (async () => {
        if (worker.getState() === 'RUNNING') worker.shutdown();
        await running.catch(() => undefined);
        await close();
        await connection.close();
      })();
      return stopped;
    },
  };
}

/**
 * Throws unless the investigation completed with the three specialists each summarized by the
 * (simulated) model in one attempt, and every sandbox deleted: a figure from a run that took
 * another path would not measure what it claims.
 */
export function checkReport(r: Report): void {
  const bad = r.specialists.filter((s) => s.status !== 'completed' || s.summarizedBy !== 'model' || s.attempts !== 1 || !s.sandbox.deleted);
  if (r.status !== 'completed' || r.brain.mode !== 'anthropic' || r.specialists.length !== 3 || bad.length) {
    const why = bad.map((s) => `${s.agent}: ${s.status}/${s.summarizedBy}/${s.attempts} attempts/${s.error ?? ''}`).join('; ');
    throw new Error(`investigation ${r.incidentId} did not run cleanly: status ${r.status}, brain ${r.brain.mode}, ${r.specialists.length} specialists ${why}`);
  }
}
