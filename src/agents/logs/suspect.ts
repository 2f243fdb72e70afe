import type { Change } from './changes';
import { countIn, minuteOf, type SignatureStats } from './signatures';

export interface SuspectOptions {
  /** How long before the onset a change can still be blamed. */
  lookbackMs?: number;
  /** A change logged this soon after the first abnormal line may still be its cause (clock skew, minute buckets). */
  graceMs?: number;
  /** The incident's service: changes scoped to it are preferred, changes scoped elsewhere need the errors to name them. */
  service?: string;
}

const SYSTEM_NAMESPACES = /^(kube-system|kube-public|kube-node-lease|monitoring|observability|logging|cert-manager|ingress-nginx|istio-system|linkerd|argocd|flux-system|gatekeeper-system|calico-system|tigera-operator)$/;

const norm = (x: string) => x.toLowerCase().replace(/[-_.](service|svc|api|app|server|deployment)$/, '');

/** 0 in the incident's scope, 1 unknown, 2 someone else's (another service, a system namespace). */
export function scopeRank(c: Change, service: string | undefined): number {
  if (!service) return 1;
  const s = norm(service);
  const mentions = (x: string | null | undefined) => !!x && new RegExp(`(^|[^a-z0-9])${s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}([^a-z0-9]|$)`, 'i').test(x);
  const svc = c.scope?.service ? norm(c.scope.service) : null;
  if ((svc && (svc === s || svc.includes(s) || s.includes(svc))) || mentions(c.id) || mentions(c.description)) return 0;
  if (svc) return 2;
  if (c.scope?.namespace && SYSTEM_NAMESPACES.test(c.scope.namespace)) return 2;
  // A deploy id naming an artifact ("cart-service-v3.8.0") names its service.
  if (c.kind === 'deploy' && c.id && /^[a-z][\w-]*[-_@:]v?\d/i.test(c.id)) return 2;
  return 1;
}

/** The object's bare name (configmap/coredns rev 7 -> coredns), to look for in the error text. */
const objectName = (c: Change) => (c.id ?? '').replace(/^[\w-]+\//, '').replace(/\s+rev\s+\S+$/, '').replace(/[-_@:]v?\d[\w.]*$/, '');

export interface SuspectVerdict {
  change: Change | null;
  reason: string;
}

const PRIMARY = new Set<Change['kind']>(['deploy', 'rollback', 'config', 'feature_flag']);

/**
 * The change to suspect: the closest one before the onset, within the lookback, provided the
 * errors of the burst are new since it (their rate before the change was a small fraction of
 * their rate after the onset). A change after the onset, hours before it, or followed by errors
 * that were already there, is not suspected. Scaling events that are part of a rollout logged
 * just before them are skipped in favour of that rollout.
 */
export function suspectChange(
  changes: Change[],
  onsetMs: number | null,
  sigs: SignatureStats[],
  opts: SuspectOptions = {},
): SuspectVerdict {
  if (onsetMs === null) return { change: null, reason: 'no error onset found in the logs, so no change is suspected' };
  const lookback = opts.lookbackMs ?? 30 * 60_000;
  const grace = opts.graceMs ?? 60_000;
  const rank = (c: Change) => scopeRank(c, opts.service);
  let candidates = changes
    .filter((c) => c.ts <= onsetMs + grace && c.ts >= onsetMs - lookback)
    .sort((a, b) => rank(a) - rank(b) || b.ts - a.ts);
  candidates = candidates.filter(
    (c) => c.kind !== 'scale' || !changes.some((p) => PRIMARY.has(p.kind) && p.ts <= c.ts && c.ts - p.ts <= 10 * 60_000),
  );
  if (candidates.length === 0) {
    const later = changes.filter((c) => c.ts > onsetMs + grace).length;
    const earlier = changes.filter((c) => c.ts < onsetMs - lookback).length;
    return {
      change: null,
      reason: `no change in the ${lookback / 60_000} min before the onset (${earlier} earlier, ${later} after it)`,
    };
  }
  const onsetMin = minuteOf(onsetMs);
  const burstEnd = onsetMin + 15;
  const burst = sigs
    .map((s) => ({ s, after: countIn(s, onsetMin, burstEnd) }))
    .filter((x) => x.after > 0);
  const burstTotal = burst.reduce((a, x) => a + x.after, 0);
  const burstText = burst.map((x) => x.s.signature.toLowerCase()).join('\n');
  for (const c of candidates) {
    // Someone else's change (another service, kube-system) is blamed only when the errors name it.
    const name = objectName(c).toLowerCase();
    if (rank(c) === 2 && !(name.length >= 3 && burstText.includes(name))) continue;
    const cMin = minuteOf(c.ts);
    const beforeFrom = cMin - 60;
    let newSince = 0;
    for (const { s, after } of burst) {
      const beforeRate = countIn(s, beforeFrom, cMin) / 60;
      const afterRate = after / (burstEnd - onsetMin);
      if (beforeRate * 4 < afterRate) newSince += after;
    }
    if (burstTotal > 0 && newSince / burstTotal >= 0.5) {
      const lead = Math.round((onsetMs - c.ts) / 60_000);
      return {
        change: c,
        reason: `${c.kind} ${c.id ?? ''} came ${lead >= 0 ? `${lead} min before` : 'at'} the onset and ${Math.round((100 * newSince) / burstTotal)}% of the burst's error lines are new since it${rank(c) === 0 ? ` (it is scoped to ${opts.service})` : rank(c) === 2 ? ' (scoped elsewhere, but the errors name it)' : ''}`.replace(/\s+/g, ' '),
      };
    }
  }
  return {
    change: null,
    reason: `the ${candidates.length} change(s) before the onset are not followed by new errors, or belong to other services or system namespaces the errors do not name`,
  };
}
