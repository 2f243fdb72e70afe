import { Client } from '@temporalio/client';
import { DefaultLogger, NativeConnection, Runtime, Worker } from '@temporalio/worker';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { createActivities } from '../activities';
import { buildAgentBundle } from '../agents/bundle';
import { ConfigError, type Config } from '../config';
import { SandboxError, type SandboxDriver } from '../sandbox/driver';
import { createDriver } from '../sandbox';
import { stackIdentity } from '../sandbox/labels';
import { assertRoutableTargets } from '../sandbox/openshell/loopback';
import { forStack } from '../sandbox/stack';
import { temporalSecurity } from '../stack/temporal-security';
import { WarmPool } from '../sandbox/pool';
import type { AgentName } from '../schemas/agent';

export interface WorkerOptions {
  config: Config;
  address: string;
  driver?: SandboxDriver;
  taskQueue?: string;
  /** Bounds concurrent activities, and so concurrently running sandboxes, on this worker. */
  maxConcurrentActivities?: number;
  /** deploy/policies unless given (tests use tightened copies). */
  policyDir?: string;
}

const WORKFLOWS = path.resolve(import.meta.dirname, '../workflows/index.ts');

let runtimeReady = false;
/** The SDK logs every state change at INFO; the CLI prints its own progress, so keep warnings only. */
function installRuntime(): void {
  if (runtimeReady) return;
  runtimeReady = true;
  try {
    Runtime.install({ logger: new DefaultLogger((process.env.BULKHEAD_LOG_LEVEL as 'WARN' | undefined) ?? 'WARN') });
  } catch {
    // Already installed by the embedding program: keep its choice.
  }
}

/** Wires configuration, the sandbox driver and the activities into a Temporal worker. */
export async function createWorker(opts: WorkerOptions): Promise<{ worker: Worker; driver: SandboxDriver; stack: string; close: () => Promise<void> }> {
  const { config } = opts;
  installRuntime();
  // Every sandbox this worker makes carries its stack's identity; its reaper touches no other.
  const stack = stackIdentity({ address: opts.address, namespace: config.TEMPORAL_NAMESPACE, override: config.BULKHEAD_STACK });
  const base = forStack(opts.driver ?? (await createDriver(config)), stack);
  // Refuse to start on what could only fail later, sandbox by sandbox: a missing CLI or ssh, or
  // (OpenShell) a setting that points sandboxes at loopback, which its proxy always refuses.
  if (base.kind === 'openshell') assertRoutableTargets(config);
  try {
    await base.preflight();
  } catch (e) {
    if (e instanceof SandboxError) throw new ConfigError('BULKHEAD_SANDBOX', `${base.kind} driver prerequisites: ${e.message}`);
    throw e;
  }
  // BULKHEAD_WARM_POOL=K keeps K installed, deny-all sandboxes per agent ready to claim.
  const pool = config.BULKHEAD_WARM_POOL > 0 ? new WarmPool(base, { size: config.BULKHEAD_WARM_POOL }) : null;
  const driver: SandboxDriver = pool ?? base;
  let bundle: Promise<string> | undefined;
  const connection = await NativeConnection.connect({ address: opts.address, ...temporalSecurity() });
  // Session dispatch endpoints turn sandbox requests into Updates through this client.
  const client = new Client({ connection, namespace: config.TEMPORAL_NAMESPACE });
  const activities = createActivities({ driver, config, client, stack, policyDir: opts.policyDir, agentBundle: () => (bundle ??= buildAgentBundle()) });
  // The pool installs its stock with the very install step a cold sandbox gets.
  pool?.start((id, agent) => activities.installAgent({ id, agent: agent as AgentName }));
  const worker = await Worker.create({
    connection,
    namespace: config.TEMPORAL_NAMESPACE,
    taskQueue: opts.taskQueue ?? config.BULKHEAD_TASK_QUEUE,
    workflowsPath: WORKFLOWS,
    activities,
    maxConcurrentActivityTaskExecutions: opts.maxConcurrentActivities ?? config.BULKHEAD_MAX_SANDBOXES * 2,
    // A killed worker's in-flight activities are noticed through heartbeats, not this timeout.
    shutdownGraceTime: '10s',
  });
  // BULKHEAD_LIVENESS_FILE (the Helm chart's liveness probe): touched while the event loop turns.
  const liveness = process.env.BULKHEAD_LIVENESS_FILE;
  const touch = () => void writeFile(liveness!, `${Date.now()}\n`).catch(() => undefined);
  const beat = liveness ? setInterval(touch, 10_000) : null;
  if (liveness) touch();
  beat?.unref();
  return {
    worker,
    driver,
    stack,
    close: async () => {
      if (beat) clearInterval(beat);
      // Pool stock is this worker's own: it goes with the worker.
      await pool?.close();
      await connection.close();
    },
  };
}
