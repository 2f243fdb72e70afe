// The worker bundles this file: only deterministic workflow code is reachable from here.
export { investigateIncident } from './investigate';
export { runSpecialist } from './specialist';
export { agentsPoller, managedSession } from './session';
export { reapOrphans } from './reaper';
