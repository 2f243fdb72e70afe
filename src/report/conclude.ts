import type { Conclusion } from '../brain/types';
import type { Evidence } from '../schemas/agent';

/** Values arrive already scaled by the metrics agent (ms, %, /s); only the unit is added. */
function fmt(v: number | null, unit?: string): string {
  if (v === null) return '?';
  const n = Number.isInteger(v) ? String(v) : String(Number(v.toPrecision(3)));
  if (!unit) return n;
  return unit === '%' || unit === '/s' ? `${n}${unit}` : `${n} ${unit}`;
}

const clip = (s: string, n: number) => (s.length <= n ? s : `${s.slice(0, n - 1)}…`);

/** How to undo a change depends on what kind of change it was. */
function undoVerb(kind: string | undefined): string {
  if (kind && /flag/.test(kind)) return 'Switch back the feature flag';
  if (kind && /config/.test(kind)) return 'Revert the configuration change';
  return 'Roll back';
}

/**
 * The root cause and recommendations written from the evidence alone: what the offline planner
 * reports, and what a brain that ended without a usable conclusion falls back to.
 */
export function concludeFromEvidence(e: Evidence): Conclusion {
  const parts: string[] = [];
  const change = e.changes.find((c) => c.id === e.suspectedChange);
  if (e.suspectedChange) {
    parts.push(`The symptoms follow change ${e.suspectedChange}${change ? ` at ${change.ts}` : ''}.`);
  } else {
    parts.push('No recent change explains the onset.');
  }
  const top = e.topErrors[0];
  if (top) parts.push(`Top error: "${clip(top.signature, 160)}" (${top.count} times, first seen ${top.firstSeen}).`);
  const moved = e.anomalies.slice(0, 4).map((a) => `${a.name} ${fmt(a.before, a.unit)} -> ${fmt(a.after, a.unit)}`);
  if (moved.length) parts.push(`Metrics that moved most: ${moved.join('; ')}.`);
  const past = e.matchedIncidents[0];
  if (past) {
    parts.push(
      `It matches past incident ${past.id} (${past.title})${past.rootCause ? `, whose root cause was: ${past.rootCause.replace(/[.\s]+$/, '')}` : ''}.`,
    );
  }
  const recommendations: string[] = [];
  if (e.suspectedChange) recommendations.push(`${undoVerb(change?.kind)} ${e.suspectedChange} and confirm the error rate recovers.`);
  if (past?.fix) recommendations.push(`Apply the fix from ${past.id}: ${past.fix}`);
  if (past?.runbook) recommendations.push(`Follow runbook ${past.runbook}.`);
  if (top) recommendations.push(`Investigate "${clip(top.signature, 160)}" at its source.`);
  if (!recommendations.length) recommendations.push('Widen the investigation: no specialist found a clear signal.');
  return { rootCause: parts.join(' '), recommendations, timeline: [] };
}
