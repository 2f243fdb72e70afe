import { Client, Connection } from '@temporalio/client';
import { cp, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { inject } from 'vitest';
import { loadConfig, type Config } from '../../src/config';
import type { SandboxDriver } from '../../src/sandbox/driver';
import { LocalDriver } from '../../src/sandbox/local';
import { POLICY_DIR } from '../../src/sandbox/policy';
import { startPrometheus } from '../../src/stack/prometheus';
import { createWorker } from '../../src/workers/worker';

export interface TestStack {
  client: Client;
  taskQueue: string;
  driver: SandboxDriver;
  /** The real local driver underneath any fault injection: what is really left on disk. */
  local: LocalDriver;
  sandboxRoot: string;
  /** This stack's private copy of deploy/policies, read at each activity: tests may edit it. */
  policyDir: string;
  prometheusUrl: string | null;
  config: Config;
  /** The worker's stack identity (src/sandbox/labels.ts): what its sandboxes are labelled with. */
  stackId: string;
  stop(): Promise<void>;
}

export interface TestStackOptions {
  omFiles?: string[];
  env?: Record<string, string>;
  /** Wraps the real driver, e.g. to inject faults. */
  wrapDriver?: (d: LocalDriver) => SandboxDriver;
  runTimeoutSeconds?: number;
}

/**
 * A worker on the run's real dev server with its own task queue, sandbox root and (optionally)
 * Prometheus, so test files do not see each other's sandboxes or workflows.
 */
export async function startTestStack(opts: TestStackOptions = {}): Promise<TestStack> {
  const address = inject('temporalAddress');
  const sandboxRoot = await mkdtemp(path.join(tmpdir(), 'bh-test-sandboxes-'));
  const policyDir = await mkdtemp(path.join(tmpdir(), 'bh-test-policies-'));
  await cp(POLICY_DIR, policyDir, { recursive: true });
  if (opts.runTimeoutSeconds) {
    for (const agent of ['metrics_agent', 'log_agent', 'runbook_agent']) {
      const f = path.join(policyDir, `${agent}.yaml`);
      await writeFile(f, `${await readFile(f, 'utf8')}\nlimits:\n  run_timeout_seconds: ${opts.runTimeoutSeconds}\n`);
    }
  }
  const prom = opts.omFiles?.length ? await startPrometheus({ omFiles: opts.omFiles }) : null;
  const taskQueue = `test-${Math.random().toString(36).slice(2, 10)}`;
  const config = loadConfig({
    TEMPORAL_ADDRESS: address,
    BULKHEAD_TASK_QUEUE: taskQueue,
    BULKHEAD_SANDBOX_ROOT: sandboxRoot,
    ...(prom ? { PROMETHEUS_URL: prom.url } : {}),
    ...opts.env,
  });
  const local = new LocalDriver({ root: sandboxRoot });
  const driver = opts.wrapDriver ? opts.wrapDriver(local) : local;
  const { worker, close, stack: stackId } = await createWorker({ config, address, driver, taskQueue, policyDir });
  const running = worker.run();
  const connection = await Connection.connect({ address });
  const client = new Client({ connection });
  return {
    client,
    taskQueue,
    driver,
    local,
    sandboxRoot,
    policyDir,
    prometheusUrl: prom?.url ?? null,
    config,
    stackId,
    async stop() {
      if (worker.getState() === 'RUNNING') worker.shutdown();
      await running.catch(() => undefined);
      await close();
      await connection.close();
      await prom?.stop();
      for (const s of await local.list()) await local.delete(s.id);
      await rm(sandboxRoot, { recursive: true, force: true });
      await rm(policyDir, { recursive: true, force: true });
    },
  };
}
