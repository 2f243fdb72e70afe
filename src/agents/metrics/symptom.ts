import { nameWords } from './units';
import type { Finding } from './scan';

/**
 * The reported symptom and when it began. The onset of an incident is when the symptom the
 * reporter describes (latency, errors, saturation of THEIR service) starts, not the first thing
 * that moved anywhere in the window: an earlier unrelated blip, or a neighbour's slow drift,
 * must not date it.
 */

export type SymptomKind = 'latency' | 'errors' | 'saturation' | 'throughput';

const TEXT_CUES: Array<[SymptomKind, RegExp]> = [
  ['latency', /\b(slow\w*|latenc\w*|lag\w*|delay\w*|late|timeouts?|timing out|timed out|time ?outs?|hang\w*|spin\w*|stuck|sluggish|p9\d|response times?|takes? (?:long|ages|forever)|degraded)\b/i],
  ['errors', /\b(errors?|erroring|fail\w*|5\d\d|5xx|exceptions?|unavailable|crash\w*|broken|refused|rejected|down|outage)\b/i],
  ['saturation', /\b(cpu|memory|oom\w*|saturat\w*|exhaust\w*|full|disk|pool|queue\w*|backlog\w*|throttl\w*|overload\w*|connections?)\b/i],
  ['throughput', /\b(throughput|traffic|drop\w*|fewer|no (?:orders|requests|traffic)|stopped|backlog\w*|queue\w*)\b/i],
];

/** What the incident's words say is wrong; every kind when they say nothing specific. */
export function reportedKinds(text: string): Set<SymptomKind> {
  const kinds = new Set<SymptomKind>();
  for (const [kind, re] of TEXT_CUES) if (re.test(text)) kinds.add(kind);
  return kinds.size ? kinds : new Set<SymptomKind>(['latency', 'errors', 'saturation', 'throughput']);
}

/** More traffic is a symptom only when the reporter talks about traffic; less traffic always can be. */
function isSymptom(f: Finding, kinds: Set<SymptomKind>, text: string): boolean {
  const kind = kindOf(f) ?? 'saturation';
  if (!kinds.has(kind)) return false;
  return !(kind === 'throughput' && f.change.direction === 'up' && !TEXT_CUES[3][1].test(text));
}

const SATURATION_WORDS = new Set([
  'cpu', 'memory', 'mem', 'heap', 'pool', 'connections', 'conns', 'pending', 'waiting', 'queue', 'backlog', 'lag', 'disk', 'filesystem',
  'utilization', 'utilisation', 'usage', 'saturation', 'threads', 'goroutines', 'inflight', 'in', 'throttled', 'restarts', 'oom', 'available',
  'ready', 'unacked', 'depth', 'load', 'locks', 'waits',
]);
const ERROR_WORDS = new Set(['errors', 'error', 'failures', 'failed', 'fail', 'exceptions', 'timeouts', 'timeout', 'rejected', 'dropped', '5xx']);

/** Which symptom a finding measures (from its query kind first, its name second). */
export function kindOf(f: Finding): SymptomKind | null {
  const words = nameWords(f.spec.family);
  if (f.spec.kind === 'ratio') return 'errors';
  if (f.spec.kind === 'latency' || f.spec.kind === 'quantile') return f.unit === 'ms' || f.unit === 's' ? 'latency' : 'saturation';
  if (words.some((w) => ERROR_WORDS.has(w))) return 'errors';
  if (f.spec.kind === 'rate' && f.unit === 'events') return 'errors';
  if (f.spec.kind === 'gauge' && (f.unit === 'ms' || f.unit === 's' || words.includes('latency') || words.includes('duration'))) return 'latency';
  if (f.spec.kind === 'gauge' || words.some((w) => SATURATION_WORDS.has(w))) return 'saturation';
  if (f.spec.kind === 'rate') return 'throughput';
  return null;
}

/** Below this score a change is within what healthy series do in a window (see changes.ts's score). */
export const MIN_SYMPTOM_SCORE = 0.6;
/** Changes this close to the strongest symptom are credible enough to date the onset. */
const ONSET_SCORE_FRACTION = 0.5;

export interface Symptom {
  onset: number | null;
  /** The findings that describe the reported symptom, strongest first. */
  findings: Finding[];
  /** Which kinds the report named. */
  kinds: SymptomKind[];
  /** Why there is no onset, in plain words, when there is none. */
  why?: string;
}

/**
 * The reporting service's own findings of the reported kinds date the onset: the earliest onset
 * among the strongest of them. When the service shows none of those kinds, its other changes
 * do; a neighbour's change never dates the incident on its own.
 */
/**
 * How much of the time from its onset to the end of the data a change stayed out of band:
 * the reported symptom is still there (or lasted), an unrelated blip recovered long ago.
 */
function lasting(f: Finding, end: number): number {
  const { onset, end: last } = f.change;
  if (onset == null || last == null || end <= onset) return 1;
  return Math.min(1, Math.max(0, (last - onset) / (end - onset)));
}

/**
 * The time the reporter gives ("since about 14:30 UTC"), as unix seconds inside (or just
 * before) the window; null when none is given or it carries a zone other than UTC.
 */
export function reportedTime(text: string, windowStart: number, windowEnd: number): number | null {
  const re = /\b(?:since|from|around|about|approx(?:imately)?|roughly|at|started|starting|began|beginning)\b[^0-9\n]{0,24}?(\d{1,2}):(\d{2})(?::\d{2})?\s*([A-Za-z]{2,5}\b|[+-]\d{2}:?\d{2})?/i;
  const m = re.exec(text);
  if (!m) return null;
  const zone = (m[3] ?? '').toUpperCase();
  if (zone && !['UTC', 'Z', 'GMT', 'AM', 'PM'].includes(zone)) return null;
  let h = Number(m[1]);
  const min = Number(m[2]);
  if (zone === 'PM' && h < 12) h += 12;
  if (zone === 'AM' && h === 12) h = 0;
  if (h > 23 || min > 59) return null;
  const day = Math.floor(windowStart / 86400) * 86400;
  for (const d of [day, day + 86400, day - 86400]) {
    const t = d + h * 3600 + min * 60;
    if (t >= windowStart - 3600 && t <= windowEnd) return t;
  }
  return null;
}

/** A reporter's time is approximate: within this, a candidate onset agrees with it. */
const REPORTED_SLACK = 15 * 60;

export function symptomOnset(ranked: Finding[], text: string, end: number, reported: number | null = null): Symptom {
  const kinds = reportedKinds(text);
  const credible = (f: Finding) => f.change.score >= MIN_SYMPTOM_SCORE && f.change.onset != null;
  // The service's own series; failing that, the service under a suffixed name (its canary).
  let own = ranked.filter((f) => f.spec.scope === 'service' && credible(f));
  if (!own.length) own = ranked.filter((f) => f.spec.relation === 'variant' && credible(f));
  const described = own.filter((f) => isSymptom(f, kinds, text));
  // Rising traffic alone is not an incident.
  const findings = described.length ? described : own.filter((f) => !(kindOf(f) === 'throughput' && f.change.direction === 'up'));
  if (!findings.length) {
    const top = ranked[0];
    const why = top
      ? `no onset: none of the service's metrics left its baseline by more than normal variation (largest change: ${top.spec.name}, score ${top.change.score.toFixed(2)})`
      : "no onset: none of the service's metrics left its baseline";
    return { onset: null, findings: [], kinds: [...kinds], why };
  }
  // What lasts, and what agrees with the time the reporter gives, dates the symptom.
  const agrees = (f: Finding) => (reported == null || Math.abs(f.change.onset! - reported) <= REPORTED_SLACK ? 1 : 0.5);
  const weight = (f: Finding) => f.change.score * Math.min(1, 2 * lasting(f, end)) * agrees(f);
  const byWeight = [...findings].sort((a, b) => weight(b) - weight(a));
  const top = weight(byWeight[0]);
  const onsets = byWeight
    .slice(0, 5)
    .filter((f) => weight(f) >= ONSET_SCORE_FRACTION * top)
    .map((f) => f.change.onset!);
  return { onset: Math.min(...onsets), findings, kinds: [...kinds] };
}
