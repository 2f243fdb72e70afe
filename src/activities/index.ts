import type { Config } from '../config';
import { createBrainActivities } from './brain';
import { createNotifyActivities } from './notify';
import { createReaperActivities, type ReaperActivityDeps } from './reaper';
import { createSandboxActivities, type SandboxActivityDeps } from './sandbox';
import { createScenarioActivities } from './scenario';
import { createSessionActivities, type SessionActivityDeps } from './session';

/** Every activity the worker registers, wired to this worker's configuration and driver. */
export function createActivities(deps: SandboxActivityDeps & SessionActivityDeps & Pick<ReaperActivityDeps, 'stack'> & { config: Config }) {
  return {
    ...createScenarioActivities(deps.config),
    ...createSandboxActivities(deps),
    ...createBrainActivities(deps.config),
    ...createSessionActivities(deps),
    ...createReaperActivities(deps),
    ...createNotifyActivities(),
  };
}
