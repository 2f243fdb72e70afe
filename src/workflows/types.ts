import type { AgentName, AgentResult, Incident, Sources } from '../schemas/agent';
import type { Denial } from '../schemas/report';

export interface SpecialistInput {
  agent: AgentName;
  task: string;
  incident: Incident;
  sources: Sources;
}

export interface SpecialistOutput {
  agent: AgentName;
  task: string;
  workflowId: string;
  status: 'completed' | 'failed';
  result: AgentResult | null;
  error: string | null;
  sandbox: { id: string; created: boolean; deleted: boolean };
  denials: Denial[];
  attempts: number;
  durationMs: number;
}

/**
 * Start an investigation either from a scenario directory on the worker's host (what
 * `temporal workflow start --input '{"scenarioDir": "..."}'` sends) or from an inline incident.
 */
export interface InvestigateInput {
  scenarioDir?: string;
  incident?: Incident;
  sources?: Sources;
  maxTurns?: number;
  deadlineMinutes?: number;
}

