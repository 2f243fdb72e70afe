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

/** Errors first seen more than this before the onset were there already: background, not the cause. */
const BACKGROUND_MS = 60_000;

/** Splits the log errors into those that began with the incident and those that predate it. */
export function splitBackground(e: Evidence): { fresh: Evidence['topErrors']; background: Evidence['topErrors'] } {
  const onset = e.onset ? Date.parse(e.onset) : NaN;
  const before = (t: { firstSeen: string }) => Number.isFinite(onset) && Date.parse(t.firstSeen) < onset - BACKGROUND_MS;
  return { fresh: e.topErrors.filter((t) => !before(t)), background: e.topErrors.filter(before) };
}

/** The culprit's own strongest anomaly (the metrics agent prefixes a neighbour's with "[owner] "). */
function culpritAnomaly(e: Evidence): Evidence['anomalies'][number] | undefined {
  return e.culprit ? e.anomalies.find((a) => a.name.startsWith(`[${e.culprit}] `)) : undefined;
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
  // Errors that were already there before the onset did not start the incident: the reader
  // is sent after the culprit, or after errors that began with the symptom.
  const { fresh, background } = splitBackground(e);
  const top = fresh[0];
  const culprit = culpritAnomaly(e);
  if (e.culprit) {
    parts.push(
      culprit
        ? `The likely culprit is ${e.culprit}: ${culprit.name.replace(`[${e.culprit}] `, '')} went ${fmt(culprit.before, culprit.unit)} -> ${fmt(culprit.after, culprit.unit)}${culprit.onset ? ` from ${culprit.onset}` : ''}.`
        : `The likely culprit is ${e.culprit}.`,
    );
  }
  if (top) parts.push(`Top error: "${clip(top.signature, 160)}" (${top.count} times, first seen ${top.firstSeen}).`);
  else if (background.length) parts.push(`The errors in the logs (e.g. "${clip(background[0].signature, 120)}") were already there before the onset; they are background, not the cause.`);
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
  if (culprit && e.culprit) {
    recommendations.push(
      `Check ${e.culprit} first: ${culprit.name.replace(`[${e.culprit}] `, '')} is at ${fmt(culprit.after, culprit.unit)} (was ${fmt(culprit.before, culprit.unit)}); relieve it (shed or stop the load driving it, scale it, or fail over) and confirm the symptom recovers.`,
    );
  }
  if (past?.fix) recommendations.push(`Apply the fix from ${past.id}: ${past.fix}`);
  if (past?.runbook) recommendations.push(`Follow runbook ${past.runbook}.`);
  if (top) recommendations.push(`Investigate "${clip(top.signature, 160)}" at its source.`);
  if (!recommendations.length) recommendations.push('Widen the investigation: no specialist found a clear signal.');
  return { rootCause: parts.join(' '), recommendations, timeline: [] };
}
