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

const FNV64_OFFSET = 0xcbf29ce484222325n;
const FNV64_PRIME = 0x100000001b3n;
const MASK64 = (1n << 64n) - 1n;
const TAG_SPACE = 36n ** 12n;

/**
 * A 12-character base-36 tag (about 62 bits) from 64-bit FNV-1a over the UTF-16 units: unique
 * enough that concurrent investigations never meet (a collision among a million live sandboxes
 * is about one in ten million), short enough for OpenShell's 19-character names. Deterministic,
 * so workflow code may use it.
 */
export function tag12(text: string): string {
  let h = FNV64_OFFSET;
  for (let i = 0; i < text.length; i++) {
    h ^= BigInt(text.charCodeAt(i));
    h = (h * FNV64_PRIME) & MASK64;
  }
  return (h % TAG_SPACE).toString(36).padStart(12, '0');
}

/**
 * Sandbox names, one scheme for every driver and every kind. OpenShell's gateway takes at most
 * 19 characters of [a-z0-9-], no leading, trailing or doubled '-' (NVIDIA/OpenShell v0.0.111,
 * crates/openshell-server/src/grpc/validation.rs, validate_sandbox_spec + validate_dns1123_label):
 *
 *   bh-<k>-<tag12>-<n>   workflow sandboxes: k = m(etrics) l(ogs) r(unbooks) s(ession),
 *                        n = incarnation (a replacement after a lost sandbox): 19 characters
 *   bh-c-<tag12>-0       `bulkhead sandbox run`        bh-b-<tag12>-0   `bulkhead bench`
 *   bh-p<k>-<tag12>      warm-pool stock (src/sandbox/pool.ts): 18 characters
 *
 * Who owns a sandbox, for which agent and which stack, travels as labels (src/sandbox/labels.ts),
 * not in the name.
 */
export const SANDBOX_NAME_MAX = 19;
export const SANDBOX_NAME = /^[a-z0-9](?:[a-z0-9]|-(?!-)){0,17}[a-z0-9]$/;
export const isValidSandboxName = (name: string) => name.length <= SANDBOX_NAME_MAX && SANDBOX_NAME.test(name);

export type SandboxKind = 'm' | 'l' | 'r' | 's' | 'c' | 'b';
export const AGENT_KIND: Record<AgentName, SandboxKind> = { metrics_agent: 'm', log_agent: 'l', runbook_agent: 'r' };

/** The name without its incarnation: what the owning workflow publishes (BulkheadSandbox). */
export const kindBase = (kind: SandboxKind, seed: string) => `bh-${kind}-${tag12(seed)}`;

/**
 * A sandbox name fixed by the workflow run, so a retried create finds the sandbox it already
 * made instead of leaking a second one. The run id keeps a re-used workflow id from adopting an
 * orphan of an earlier run. `incarnation` counts replacements of a sandbox lost with its worker.
 */
export function sandboxBase(agent: AgentName, workflowId: string, runId: string): string {
  return kindBase(AGENT_KIND[agent], `${workflowId}/${runId}`);
}
export function sandboxName(base: string, incarnation: number): string {
  if (!Number.isInteger(incarnation) || incarnation < 0 || incarnation > 9) throw new Error(`incarnation ${incarnation} out of range 0-9`);
  return `${base}-${incarnation}`;
}
/** The reaper's inverse: which base (and so which owning workflow) a sandbox name belongs to. */
export function baseOf(sandboxId: string): string | null {
  const m = /^(bh-[a-z]-[0-9a-z]{12})-\d$/.exec(sandboxId);
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
export const sessionSandboxBase = (workflowId: string, runId: string) => kindBase('s', `${workflowId}/${runId}`);
