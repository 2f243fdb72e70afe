import type { AgentName } from '../schemas/agent';

/** FNV-1a: a deterministic hash that workflow code may use (no crypto module there). */
export function fnv1a(text: string): string {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return (h >>> 0).toString(16).padStart(8, '0');
}

const SHORT: Record<AgentName, string> = { metrics_agent: 'metrics', log_agent: 'logs', runbook_agent: 'runbooks' };

/**
 * A sandbox name fixed by the workflow run, so a retried create finds the sandbox it already
 * made instead of leaking a second one. The run id keeps a re-used workflow id from adopting an
 * orphan of an earlier run. `incarnation` counts replacements of a sandbox lost with its worker.
 */
export function sandboxBase(agent: AgentName, workflowId: string, runId: string): string {
  return `bh-${SHORT[agent]}-${fnv1a(`${workflowId}/${runId}`)}`;
}
export function sandboxName(base: string, incarnation: number): string {
  return `${base}-${incarnation}`;
}
/** The reaper's inverse: which base (and so which owning workflow) a sandbox name belongs to. */
export function baseOf(sandboxId: string): string | null {
  const m = /^(bh-[a-z]+-[0-9a-f]{8})-\d+$/.exec(sandboxId);
  return m ? m[1]! : null;
}

export const investigationId = (incidentId: string) => `incident-${incidentId}`;
export const specialistId = (parentId: string, agent: AgentName, n: number) => `${parentId}/${agent}-${n}`;
/** Numbers a parent's specialists per agent (log_agent-1, log_agent-2, ...), in dispatch order. */
export function specialistIds(parentId: string): (agent: AgentName) => string {
  const counters = new Map<AgentName, number>();
  return (agent) => {
    const n = (counters.get(agent) ?? 0) + 1;
    counters.set(agent, n);
    return specialistId(parentId, agent, n);
  };
}

/** Managed Agents session ids become workflow ids, sandbox names and a file name: keep them plain. */
export const SESSION_ID_PATTERN = /^[A-Za-z0-9_-]{1,128}$/;
export const sessionWorkflowId = (sessionId: string) => `session-${sessionId}`;
/** One workflow per Managed Agents work item (DESIGN.md section 2): `work-<workId>`. */
export const workWorkflowId = (workId: string) => `work-${workId}`;
export const pollerWorkflowId = (environmentId: string) => `agents-poll-${environmentId}`;
/** Like sandboxBase, for the session sandbox that runs `ant beta:worker run`. */
export const sessionSandboxBase = (workflowId: string, runId: string) => `bh-session-${fnv1a(`${workflowId}/${runId}`)}`;
