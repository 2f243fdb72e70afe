import { defineQuery, defineSignal } from '@temporalio/workflow';
import type { AgentName } from '../schemas/agent';
import type { Denial } from '../schemas/report';

export type SandboxStep = 'queued' | 'create' | 'install' | 'policy' | 'run' | 'delete' | 'done' | 'failed' | 'cancelled';

export interface SpecialistProgress {
  workflowId: string;
  agent: AgentName;
  task: string;
  step: SandboxStep;
  sandboxId: string | null;
  attempts: number;
  denials: Denial[];
  error: string | null;
}

/** A specialist before its first sandbox step: the parent lists it so, and the child starts so. */
export function queuedProgress(workflowId: string, agent: AgentName, task: string): SpecialistProgress {
  return { workflowId, agent, task, step: 'queued', sandboxId: null, attempts: 0, denials: [], error: null };
}

export interface InvestigationProgress {
  incidentId: string;
  status: 'starting' | 'running' | 'completed' | 'partial' | 'failed' | 'cancelled';
  turn: number;
  brain: { mode: string | null; model: string | null };
  specialists: SpecialistProgress[];
}

export const investigationProgress = defineQuery<InvestigationProgress>('progress');
export const specialistProgressQuery = defineQuery<SpecialistProgress>('progress');
/** Children report each sandbox step to their parent, so one query shows the whole investigation. */
export const specialistProgressSignal = defineSignal<[SpecialistProgress]>('specialistProgress');
