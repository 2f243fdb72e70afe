import { createHash } from 'node:crypto';
import { hostname } from 'node:os';

/**
 * What a sandbox carries so that any process can tell whose it is without a local index: the
 * local driver keeps these in its state, OpenShell on the gateway (`sandbox create --label`,
 * `sandbox list -o json` / `--selector`). Keys and values follow Kubernetes' label rules, which
 * OpenShell enforces (crates/openshell-server/src/grpc/validation.rs, validate_label_key /
 * validate_label_value): values at most 63 characters of [A-Za-z0-9._-], alphanumeric at both ends.
 */
export const LABEL = {
  managedBy: 'bulkhead.dev/managed-by',
  stack: 'bulkhead.dev/stack',
  owner: 'bulkhead.dev/owner',
  agent: 'bulkhead.dev/agent',
} as const;
export const MANAGED_BY = 'bulkhead';

export type Labels = Record<string, string>;

const LABEL_VALUE = /^(?:[A-Za-z0-9](?:[A-Za-z0-9._-]{0,61}[A-Za-z0-9])?)?$/;
export const isLabelValue = (v: string) => LABEL_VALUE.test(v);

/**
 * Any string as a valid label value (informational: liveness is judged by the sandbox name):
 * other characters become '.', and a value too long keeps its head and a hash of the whole.
 */
export function labelValue(text: string): string {
  const v = text.replace(/[^A-Za-z0-9._-]+/g, '.').replace(/^[^A-Za-z0-9]+|[^A-Za-z0-9]+$/g, '');
  if (v.length > 0 && v.length <= 63) return v;
  const hash = createHash('sha256').update(text).digest('hex').slice(0, 10);
  const head = v.slice(0, 52).replace(/[^A-Za-z0-9]+$/, '');
  return head ? `${head}-${hash}` : hash;
}

/** The labels every Bulkhead sandbox is created with. */
export function bulkheadLabels(stack: string, owner: string, agent: string): Labels {
  return { [LABEL.managedBy]: MANAGED_BY, [LABEL.stack]: stack, [LABEL.owner]: labelValue(owner), [LABEL.agent]: labelValue(agent) };
}

/** True only for a sandbox Bulkhead made for this very stack: the one rule every reaper follows. */
export function ownedByStack(labels: Labels | null | undefined, stack: string): boolean {
  return !!labels && labels[LABEL.managedBy] === MANAGED_BY && labels[LABEL.stack] === stack;
}

/** `--selector` text for this stack's sandboxes. */
export const stackSelector = (stack: string) => `${LABEL.managedBy}=${MANAGED_BY},${LABEL.stack}=${stack}`;

const LOOPBACK = /^(?:127\.|localhost(?::|$)|\[::1\]|::1|0\.0\.0\.0)/i;

/**
 * A stack is the set of workers that share one Temporal namespace: only they can judge, from
 * visibility, whether a sandbox's owner still runs. So its identity is BULKHEAD_STACK when set,
 * else derived from the Temporal address and namespace; a loopback address (an embedded dev
 * server) is private to its host, so the host name joins it there. Two embedded stacks on one
 * machine run on different ports and so never share an identity.
 */
export function stackIdentity(o: { address: string; namespace: string; override?: string }): string {
  if (o.override) {
    if (!isLabelValue(o.override) || !o.override) throw new Error(`BULKHEAD_STACK: expected at most 63 characters of [A-Za-z0-9._-], alphanumeric at both ends; got "${o.override}"`);
    return o.override;
  }
  const host = LOOPBACK.test(o.address) ? `${hostname()}/` : '';
  return `t-${createHash('sha256').update(`${host}${o.address}/${o.namespace}`).digest('hex').slice(0, 16)}`;
}
