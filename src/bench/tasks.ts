import { offlineTasks } from '../brain/offline';
import type { AgentName, Incident } from '../schemas/agent';

export interface BenchTask {
  agent: AgentName;
  task: string;
}

/**
 * The three specialists' tasks, identical for the Temporal runs (the brain stand-in dispatches
 * them) and the no-Temporal baseline: the offline planner's metrics and logs tasks plus a
 * runbook search, all in one turn.
 */
export function benchTasks(incident: Incident): BenchTask[] {
  return [
    ...offlineTasks(incident),
    {
      agent: 'runbook_agent',
      task: `Find runbooks and past incidents for ${incident.service} that match: ${incident.title}. Give their ids, causes and fixes.`,
    },
  ];
}
