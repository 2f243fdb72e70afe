import { Client, Connection, type WorkflowHandle } from '@temporalio/client';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { inject } from 'vitest';
import { LocalDriver } from '../../src/sandbox/local';
import { omFilesOf, startPrometheus } from '../../src/stack/prometheus';
import { REPO_ROOT } from '../../src/stack/tools';
import type { investigateIncident } from '../../src/workflows';
import { spawnWorker, type WorkerProcess } from './spawn-worker';

export const SCENARIO_DIR = path.join(REPO_ROOT, 'scenarios/checkout-outage');

export interface ProcessStack {
  address: string;
  client: Client;
  taskQueue: string;
  sandboxRoot: string;
  runLog: string;
  /** Counts what is really left on disk, whoever created it. */
  local: LocalDriver;
  /** A worker process on this stack's queue and sandbox root; `env` adds to or overrides it. */
  spawn(env?: Record<string, string | undefined>): Promise<WorkerProcess>;
  start(workflowId: string): Promise<WorkflowHandle<typeof investigateIncident>>;
  stop(): Promise<void>;
}

/**
 * Prometheus loaded with the checkout scenario, a private task queue and sandbox root, and
 * workers in child processes (test/support/worker-process.ts) on the given server (default: the
 * run's dev server).
 */
export async function startProcessStack(opts: { address?: string; env?: Record<string, string> } = {}): Promise<ProcessStack> {
  const address = opts.address ?? inject('temporalAddress');
  const tmp = await mkdtemp(path.join(tmpdir(), 'bh-fault-'));
  const sandboxRoot = path.join(tmp, 'sandboxes');
  const runLog = path.join(tmp, 'runs.jsonl');
  const prom = await startPrometheus({ omFiles: await omFilesOf(SCENARIO_DIR) });
  const taskQueue = `fault-${Math.random().toString(36).slice(2, 10)}`;
  const connection = await Connection.connect({ address });
  const client = new Client({ connection });
  const local = new LocalDriver({ root: sandboxRoot });
  const workers: WorkerProcess[] = [];
  return {
    address,
    client,
    taskQueue,
    sandboxRoot,
    runLog,
    local,
    async spawn(env = {}) {
      const w = await spawnWorker({
        TEMPORAL_ADDRESS: address,
        BULKHEAD_TASK_QUEUE: taskQueue,
        BULKHEAD_SANDBOX_ROOT: sandboxRoot,
        PROMETHEUS_URL: prom.url,
        BULKHEAD_TEST_RUN_LOG: runLog,
        ...opts.env,
        ...env,
      });
      workers.push(w);
      return w;
    },
    start: (workflowId) => client.workflow.start<typeof investigateIncident>('investigateIncident', { taskQueue, workflowId, args: [{ scenarioDir: SCENARIO_DIR }] }),
    async stop() {
      for (const w of workers) await w.stop();
      await connection.close();
      await prom.stop();
      for (const s of await local.list()) await local.delete(s.id);
      await rm(tmp, { recursive: true, force: true });
    },
  };
}
