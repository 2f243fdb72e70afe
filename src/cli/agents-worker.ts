import type { Config } from '../config';
import { InputError } from '../errors';
import { type AgentsWorkerOptions, checkEnvironment, startAgentsWorker } from '../workers/agents';
import { requireAddress } from './client';

/**
 * `bulkhead agents-worker`: the native alternative to `ant beta:worker poll`. Every
 * configuration error (Temporal address, environment id and key, the key refused) is reported
 * before polling starts, exit 2. SIGTERM/SIGINT shut the worker down; running sessions are not
 * lost: their workflows resume on the next worker (their leases saved on this host).
 */
export async function agentsWorker(
  config: Config,
  env: NodeJS.ProcessEnv = process.env,
  /** Tests swap the sandbox driver (stubbed specialists); the CLI passes nothing. */
  wiring: Pick<AgentsWorkerOptions, 'driver' | 'policyDir'> = {},
): Promise<number> {
  const address = requireAddress(config.TEMPORAL_ADDRESS, 'agents-worker');
  const environmentId = config.ANTHROPIC_ENVIRONMENT_ID;
  if (!environmentId) throw new InputError('ANTHROPIC_ENVIRONMENT_ID', 'required: the self-hosted environment to poll (env_...)');
  const environmentKey = env.ANTHROPIC_ENVIRONMENT_KEY;
  if (!environmentKey) throw new InputError('ANTHROPIC_ENVIRONMENT_KEY', 'required: the environment key (sk-ant-oat01-...)');
  await checkEnvironment(config, environmentId, environmentKey);
  const w = await startAgentsWorker({ config, address, environmentId, environmentKey, ...wiring });
  console.log(`agents-worker: polling ${environmentId} on ${config.ANTHROPIC_BASE_URL ?? 'https://api.anthropic.com'}; sessions run on ${address}, task queue ${config.BULKHEAD_TASK_QUEUE}`);
  process.once('SIGINT', w.shutdown);
  process.once('SIGTERM', w.shutdown);
  await w.run();
  await w.close();
  return 0;
}
