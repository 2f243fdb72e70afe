import type { Conclusion } from '../brain/types';
import type { Evidence } from '../schemas/agent';
import { embedsShellCommand } from './harden';
import { isIdentifier } from './text';

/** Values arrive already scaled by the metrics agent (ms, %, /s); only the unit is added. */
function fmt(v: number | null, unit?: string): string {
  if (v === null) return '?';
  const n = Number.isInteger(v) ? String(v) : String(Number(v.toPrecision(3)));
  if (!unit) return n;
  return unit === '%' || unit === '/s' ? `${n}${unit}` : `${n} ${unit}`;
}

const clip = (s: string, n: number) => (s.length <= n ? s : `${s.slice(0, n - 1)}…`);
/** Runbook and log text is quoted as what it is, never written as our own instruction. */
const quoted = (s: string, n: number) => `"${clip(s.replace(/\s+/g, ' ').replace(/"/g, "'").trim(), n)}"`;

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
  // Only an identifier names a change: a free-text "version" from a log line is no change to roll back.
  const suspected = isIdentifier(e.suspectedChange) ? e.suspectedChange : null;
  const change = e.changes.find((c) => c.id === suspected);
  if (suspected) {
    parts.push(`The symptoms follow change ${suspected}${change ? ` at ${change.ts}` : ''}.`);
  } else {
    parts.push('No recent change explains the onset.');
  }
  // Errors that were already there before the onset did not start the incident: the reader
  // is sent after the culprit, or after errors that began with the symptom.
  const { fresh, background } = splitBackground(e);
  const top = fresh[0];
  // The culprit names a service: only an identifier does.
  const culpritName = isIdentifier(e.culprit) ? e.culprit : null;
  const culprit = culpritName ? culpritAnomaly(e) : undefined;
  if (culpritName) {
    parts.push(
      culprit
        ? `The likely culprit is ${culpritName}: ${culprit.name.replace(`[${culpritName}] `, '')} went ${fmt(culprit.before, culprit.unit)} -> ${fmt(culprit.after, culprit.unit)}${culprit.onset ? ` from ${culprit.onset}` : ''}.`
        : `The likely culprit is ${culpritName}.`,
    );
  }
  if (top) parts.push(`Top error: "${clip(top.signature, 160)}" (${top.count} times, first seen ${top.firstSeen}).`);
  else if (background.length) parts.push(`The errors in the logs (e.g. "${clip(background[0].signature, 120)}") were already there before the onset; they are background, not the cause.`);
  const moved = e.anomalies.slice(0, 4).map((a) => `${a.name} ${fmt(a.before, a.unit)} -> ${fmt(a.after, a.unit)}`);
  if (moved.length) parts.push(`Metrics that moved most: ${moved.join('; ')}.`);
  const past = e.matchedIncidents.find((m) => isIdentifier(m.id));
  if (past) {
    parts.push(
      `It matches past incident ${past.id} (${quoted(past.title, 160)})${past.rootCause ? `, whose recorded root cause was ${quoted(past.rootCause.replace(/[.\s]+$/, ''), 300)}` : ''}.`,
    );
  }
  const recommendations: string[] = [];
  if (suspected) recommendations.push(`${undoVerb(change?.kind)} ${suspected} and confirm the error rate recovers.`);
  if (culprit && culpritName) {
    recommendations.push(
      `Check ${culpritName} first: ${culprit.name.replace(`[${culpritName}] `, '')} is at ${fmt(culprit.after, culprit.unit)} (was ${fmt(culprit.before, culprit.unit)}); relieve it (shed or stop the load driving it, scale it, or fail over) and confirm the symptom recovers.`,
    );
  }
  if (past?.fix) {
    // A fix that is a shell pipeline is pointed to, not copied: the reader opens the runbook.
    recommendations.push(
      embedsShellCommand(past.fix)
        ? `See the fix recorded for ${past.id} in its runbook (it contains a shell command, not copied here).`
        : `Apply the fix recorded for ${past.id} (quoted from the runbook): ${quoted(past.fix, 300)}`,
    );
  }
  if (past?.runbook && isIdentifier(past.runbook)) recommendations.push(`Follow runbook ${past.runbook}.`);
  if (top) recommendations.push(`Investigate "${clip(top.signature, 160)}" at its source.`);
  if (!recommendations.length) recommendations.push('Widen the investigation: no specialist found a clear signal.');
  return { rootCause: parts.join(' '), recommendations, timeline: [] };
}
