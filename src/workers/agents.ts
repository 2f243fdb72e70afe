import { Client } from '@temporalio/client';
import { NativeConnection, Worker } from '@temporalio/worker';
import { createWorkPollActivities } from '../activities/work-poll';
import { type Config, ConfigError } from '../config';
import type { SandboxDriver } from '../sandbox/driver';
import { statusOf, workClient } from '../session/api-client';
import { pollerWorkflowId } from '../workflows/ids';
import { createWorker } from './worker';

export interface AgentsWorkerOptions {
  config: Config;
  address: string;
  environmentId: string;
  /** From the process environment only: never an input, result or history payload. */
  environmentKey: string;
  driver?: SandboxDriver;
  policyDir?: string;
  taskQueue?: string;
}

export const pollQueueOf = (taskQueue: string, environmentId: string) => `${taskQueue}-agents-${environmentId}`;

/**
 * Configuration errors surface before any polling: the environment must answer the key (work
 * stats is a read that claims nothing), so a wrong id or key is exit 2, not a poll loop failing.
 */
export async function checkEnvironment(config: Config, environmentId: string, environmentKey: string): Promise<void> {
  try {
    await workClient(environmentKey, config.ANTHROPIC_BASE_URL).beta.environments.work.stats(environmentId, {}, { maxRetries: 1, timeout: 15_000 });
  } catch (e) {
    const s = statusOf(e);
    if (s === 401 || s === 403) throw new ConfigError('ANTHROPIC_ENVIRONMENT_KEY', `refused by ${config.ANTHROPIC_BASE_URL ?? 'the Anthropic API'} (${s})`);
    if (s === 404) throw new ConfigError('ANTHROPIC_ENVIRONMENT_ID', `environment ${environmentId} not found (404)`);
    throw new ConfigError('ANTHROPIC_BASE_URL', `cannot reach the work API: ${(e as Error).message}`);
  }
}

/**
 * `bulkhead agents-worker`: a full Bulkhead worker (sessions, specialists) plus the claim side on
 * a queue of its own, and the poller workflow `agents-poll-<environmentId>` (joined if it runs).
 */
export async function startAgentsWorker(o: AgentsWorkerOptions): Promise<{ run: () => Promise<void>; shutdown: () => void; close: () => Promise<void> }> {
  const taskQueue = o.taskQueue ?? o.config.BULKHEAD_TASK_QUEUE;
  const pollQueue = pollQueueOf(taskQueue, o.environmentId);
  const main = await createWorker({ config: o.config, address: o.address, driver: o.driver, policyDir: o.policyDir, taskQueue });
  const connection = await NativeConnection.connect({ address: o.address });
  const client = new Client({ connection, namespace: o.config.TEMPORAL_NAMESPACE });
  const claim = await Worker.create({
    connection,
    namespace: o.config.TEMPORAL_NAMESPACE,
    taskQueue: pollQueue,
    activities: createWorkPollActivities({ config: o.config, client, environmentId: o.environmentId, environmentKey: o.environmentKey, sessionQueue: taskQueue, pollQueue }),
    shutdownGraceTime: '5s',
  });
  await client.workflow.start('agentsPoller', {
    taskQueue,
    workflowId: pollerWorkflowId(o.environmentId),
    args: [{ pollQueue }],
    workflowIdConflictPolicy: 'USE_EXISTING',
    staticSummary: `Managed Agents work poller for ${o.environmentId}`,
  });
  return {
    run: async () => {
      await Promise.all([main.worker.run(), claim.run()]);
    },
    shutdown: () => {
      if (claim.getState() === 'RUNNING') claim.shutdown();
      if (main.worker.getState() === 'RUNNING') main.worker.shutdown();
    },
    close: async () => {
      await main.close();
      await connection.close();
    },
  };
}
