import { defineUpdate } from '@temporalio/workflow';
import { AGENT_TASK_MAX_CHARS, AGENTS, type AgentName } from '../schemas/agent';

/** The specialist's own bound (AgentInput.task): a longer task could never run. */
export const MAX_TASK_CHARS = AGENT_TASK_MAX_CHARS;

export interface DispatchRequest {
  agent: AgentName;
  task: string;
}
export type DispatchReply =
  | { ok: true; summary: string; workflowId: string }
  | { ok: false; error: string; workflowId: string | null };

/** One brain tool call (`dispatch AGENT "TASK"`) on a managedSession: answered with the summary. */
export const dispatchUpdate = defineUpdate<DispatchReply, [DispatchRequest]>('dispatch');

/**
 * Why a request cannot run, or null. Shared by the Update validator (a rejected Update leaves no
 * trace in history) and the dispatch endpoint (which answers 400 without asking Temporal).
 */
export function dispatchProblem(req: unknown): string | null {
  const r = req as Partial<DispatchRequest> | null;
  if (!r || typeof r !== 'object') return 'expected {agent, task}';
  if (typeof r.agent !== 'string' || !(AGENTS as readonly string[]).includes(r.agent)) {
    return `agent: unknown agent ${JSON.stringify(r.agent)}; one of ${AGENTS.join(', ')}`;
  }
  if (typeof r.task !== 'string' || r.task.trim() === '') return 'task: empty';
  if (r.task.length > MAX_TASK_CHARS) return `task: ${r.task.length} characters, at most ${MAX_TASK_CHARS}`;
  return null;
}
