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
/** A webhook told when an investigation ends. A secret URL travels only as its env var's NAME. */
export interface NotifyTarget {
  url?: string;
  urlEnv?: string;
  format: 'slack' | 'json';
}

export interface InvestigateInput {
  scenarioDir?: string;
  incident?: Incident;
  sources?: Sources;
  maxTurns?: number;
  deadlineMinutes?: number;
  /** Specialists whose source the live config does not name: reported as not configured, never run. */
  unconfigured?: { agent: AgentName; reason: string }[];
  /** Webhooks posted the summary when it ends (a retried activity that never fails the investigation). */
  notify?: NotifyTarget[];
  /** Where a person opens this investigation (Temporal UI or the intake's URL), for notifications. */
  link?: string;
}

