import type { Relation } from './discover';
import type { Finding } from './scan';
import { MIN_SYMPTOM_SCORE, kindOf } from './symptom';

/**
 * Which service most likely caused the reported symptom. A neighbour explains the symptom when
 * one of its series left its baseline before the symptom began (or with it, when the service's
 * own labels say it depends on that neighbour) and was still out of band when the symptom began.
 * Among those, the evidence of the link ranks first (a declared dependency beats a namespace
 * neighbour), then the size of the change. A fellow client of the culprit whose load rose first
 * is named as what drove it (the noisy neighbour).
 */

export interface Culprit {
  service: string;
  /** The neighbour finding that explains the symptom (null when the service is its own culprit). */
  finding: Finding | null;
  relation: Relation | 'self';
  /** Seconds by which the culprit's change preceded the symptom (0 when they coincide). */
  leadSeconds: number;
  why: string;
  /** The culprit's other changes that qualify (its disk, its connections), strongest first. */
  also: Finding[];
  /** A fellow client of the culprit whose load rose first (noisy neighbour), when one did. */
  driver?: { service: string; finding: Finding };
}

/** Link evidence tiers: a declared dependency or a variant of the service outranks mere proximity. */
const TIER: Record<Relation, number> = { dependency: 2, variant: 2, named: 2, shared: 1, namespace: 0 };
const WEIGHT: Record<Relation, number> = { dependency: 1, variant: 1, named: 0.9, shared: 0.8, namespace: 0.6 };

export interface CulpritInput {
  service: string;
  ranked: Finding[];
  /** Onset of the reported symptom (symptom.ts); null: nothing to explain. */
  onset: number | null;
  step: number;
  /** The service's own rollout at or before the onset, if any. */
  ownChangeBeforeOnset: string | null;
}

function qualifies(f: Finding, onset: number, step: number): boolean {
  const c = f.change;
  if (c.onset == null || c.score < MIN_SYMPTOM_SCORE) return false;
  // A declared dependency may move in the same step as the symptom; mere neighbours must lead.
  const strong = f.spec.relation === 'dependency' || f.spec.relation === 'variant' || f.spec.relation === 'named';
  const tolerance = strong ? Math.max(2 * step, 60) : -step;
  if (c.onset > onset + tolerance) return false;
  // A blip that was over before the symptom began does not explain it.
  return c.end == null || c.end >= onset - 2 * step;
}

export function findCulprit(input: CulpritInput): Culprit | null {
  const { onset, step } = input;
  if (onset == null) return null;
  const byOwner = new Map<string, { f: Finding; weight: number; relation: Relation }>();
  for (const f of input.ranked) {
    if (f.spec.scope !== 'related' || !f.spec.owner || !f.spec.relation) continue;
    if (!qualifies(f, onset, step)) continue;
    // Throughput that merely rose with the incident is weaker evidence than saturation.
    const kind = kindOf(f);
    const weight = f.change.score * WEIGHT[f.spec.relation] * (f.spec.linkWeight ?? 1) * (kind === 'throughput' ? 0.6 : 1);
    const cur = byOwner.get(f.spec.owner);
    if (!cur || weight > cur.weight) byOwner.set(f.spec.owner, { f, weight, relation: f.spec.relation });
  }
  // The exact name of a dependency outranks its suffixed forms (the primary over its lagging replica).
  const tier = (o: { f: Finding; relation: Relation }) => TIER[o.relation] + ((o.f.spec.linkWeight ?? 1) >= 1 ? 0.5 : 0);
  const ranked = [...byOwner.entries()].sort(([, a], [, b]) => tier(b) - tier(a) || b.weight - a.weight);
  const best = ranked[0];
  if (best) {
    const [service, { f, relation }] = best;
    const lead = Math.max(0, onset - f.change.onset!);
    const also = input.ranked.filter((x) => x !== f && x.spec.owner === service && x.spec.scope === 'related' && qualifies(x, onset, step)).slice(0, 3);
    const culprit: Culprit = { service, finding: f, relation, leadSeconds: lead, why: whyText(relation), also };
    // The noisy neighbour: a fellow client of a shared resource (else any neighbour) whose load
    // rose no later than the culprit's change.
    const loads = ranked
      .slice(1)
      .filter(([, o]) => o.f.change.direction === 'up' && o.f.change.onset! <= f.change.onset! + 2 * step && ['throughput', 'saturation'].includes(kindOf(o.f) ?? ''));
    const driver = loads.find(([, o]) => o.relation === 'shared') ?? loads.find(([, o]) => o.relation !== 'dependency' && o.relation !== 'variant');
    if (driver) culprit.driver = { service: driver[0], finding: driver[1].f };
    return culprit;
  }
  if (input.ownChangeBeforeOnset) {
    return { service: input.service, finding: null, relation: 'self', leadSeconds: 0, why: `its own change ${input.ownChangeBeforeOnset} precedes the symptom`, also: [] };
  }
  return null;
}

function whyText(r: Relation): string {
  switch (r) {
    case 'dependency':
      return "a dependency named by the service's own metrics";
    case 'variant':
      return 'a variant of the service';
    case 'named':
      return 'named in the incident';
    case 'shared':
      return 'shares a resource with the service';
    case 'namespace':
      return "in the service's namespace";
  }
}
