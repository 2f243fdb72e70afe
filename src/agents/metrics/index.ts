import { Evidence, type AgentInput } from '../../schemas/agent';
import type { Gather, Gathered } from '../types';
import { describeChange, buildDigest } from './digest';
import { discover } from './discover';
import { iso, round3 } from './format';
import { findLimit } from './limits';
import { PromClient, toUnix } from './prom';
import { buildQueries } from './queries';
import { findCulprit, type Culprit } from './culprit';
import { findRelated } from './related';
import { findRollouts } from './rollouts';
import { dataExtent, scan, scrapeInterval, type Finding, type Range } from './scan';
import { reportedTime, symptomOnset } from './symptom';
import { metricsTools } from './tools';

/**
 * metrics_agent's evidence: discover the service's series, turn them into rates, quantiles and
 * ratios, compare the incident window with the hour before it, and rank what moved.
 */

const BASELINE_SECONDS = 3600;
const MAX_QUERIES = 150;
const MAX_ANOMALIES = 12;
/** Fewer baseline points than this before the onset is not a clean baseline. */
const CLEAN_BASELINE_POINTS = 6;
/** A neighbour's change ranks a little below an equal change of the service itself. */
const RELATED_WEIGHT = 0.8;

function stepFor(seconds: number): number {
  // 15-60 s: fine enough to date an onset to the minute, coarse enough to stay cheap.
  return Math.min(60, Math.max(15, Math.ceil(seconds / 480 / 15) * 15));
}

function rateWindowFor(interval: number | null, step: number): { text: string; seconds: number } {
  const s = Math.max(120, 4 * (interval ?? 15), step * 2);
  return s % 60 === 0 ? { text: `${s / 60}m`, seconds: s } : { text: `${s}s`, seconds: s };
}

function emptyResult(digest: string, warnings: string[]): Gathered {
  return { evidence: Evidence.parse({}), digest, tools: [], warnings };
}

export const gatherMetrics: Gather = async (input: AgentInput, log) => {
  const url = input.sources.prometheusUrl;
  if (!url) return emptyResult('No Prometheus URL was given to the metrics agent; no metrics were read.', ['no prometheusUrl in sources']);
  const prom = new PromClient(url);
  try {
    return await gatherFrom(prom, input, log);
  } catch (e) {
    const msg = (e as Error).message;
    log(`metrics: ${msg}`);
    return emptyResult(`Metrics could not be read from Prometheus: ${msg}`, [`prometheus: ${msg}`]);
  }
};

export async function gatherFrom(prom: PromClient, input: AgentInput, log: (msg: string) => void): Promise<Gathered> {
  const service = input.incident.service;
  const windowStart = toUnix(input.incident.window.start);
  const windowEnd = toUnix(input.incident.window.end);
  const lookStart = windowStart - BASELINE_SECONDS;
  const warnings: string[] = [];
  const notes: string[] = [];

  const discovery = await discover(prom, service, lookStart, windowEnd);
  warnings.push(...discovery.warnings);
  log(`metrics: ${discovery.families.length} families for ${service} via ${discovery.how}`);
  const tools = metricsTools(prom, discovery, { windowStart, windowEnd });

  const step = stepFor(windowEnd - lookStart);
  const extent = await dataExtent(prom, discovery, lookStart, windowEnd, step);
  if (!extent) {
    const digest = `No samples for service "${service}" between ${iso(lookStart)} and ${iso(windowEnd)} (matched by ${discovery.how}).`;
    return { evidence: Evidence.parse({}), digest, tools, warnings: [...warnings, 'no samples in the incident range'] };
  }
  const interval = await scrapeInterval(prom, discovery.families, extent.last);
  const rw = rateWindowFor(interval, step);
  // Before the data starts, rates would read as zeros: start once a full rate window exists.
  // When the data begin only shortly before the window, every minute of history counts: rates
  // start after two scrapes (Prometheus extrapolates a partial window).
  const short = windowStart - (extent.first + rw.seconds) < CLEAN_BASELINE_POINTS * step;
  const start = Math.max(lookStart, extent.first + (short ? Math.min(rw.seconds, 2 * (interval ?? 15) + step) : rw.seconds));
  const end = Math.min(windowEnd, extent.last);
  const range: Range = { start, end, step, baselineEnd: windowStart };

  const reportText = [input.incident.title, input.incident.report].join('\n');
  const reported = reportedTime(input.incident.report, windowStart, windowEnd);
  // The service first: its symptom's onset tells which neighbours moved with it.
  let ownSpecs = buildQueries(discovery.families, rw.text);
  if (ownSpecs.length > MAX_QUERIES) {
    warnings.push(`${ownSpecs.length} queries for ${service}; only the first ${MAX_QUERIES} were run`);
    ownSpecs = ownSpecs.slice(0, MAX_QUERIES);
  }
  const own = await scan(prom, ownSpecs, range, log);
  const ownOnset = symptomOnset(own.findings.filter((f) => f.change.score > 0).sort((a, b) => b.change.score - a.change.score), reportText, end, reported).onset;

  const related = await findRelated(prom, discovery, service, [reportText, input.task].join('\n'), lookStart, windowEnd, ownOnset);
  if (related.groups.length) {
    const shown = related.groups.slice(0, 6).join('; ');
    notes.push(`also scanned neighbours: ${shown}${related.groups.length > 6 ? `; +${related.groups.length - 6} more` : ''}`);
  }
  log(`metrics: ${related.families.length} related families (${related.groups.join('; ') || 'none'})`);

  let relatedSpecs = buildQueries(related.families, rw.text);
  const budget = Math.max(0, MAX_QUERIES - ownSpecs.length);
  if (relatedSpecs.length > budget) {
    warnings.push(`${relatedSpecs.length} queries for ${service}'s neighbours; only the first ${budget} were run`);
    relatedSpecs = relatedSpecs.slice(0, budget);
  }
  const rel = await scan(prom, relatedSpecs, range, log);
  const findings = [...own.findings, ...rel.findings];
  const errors = [...own.errors, ...rel.errors];
  if (errors.length) warnings.push(...errors.slice(0, 5).map((e) => `query failed: ${e}`));

  for (const f of findings) if (f.spec.scope === 'related') f.change.score *= RELATED_WEIGHT;
  const ranked = findings.filter((f) => f.change.score > 0).sort((a, b) => b.change.score - a.change.score);
  const unchanged = findings.filter((f) => f.change.score === 0);
  // The onset is when the reported symptom began; a neighbour's slow drift or an earlier blip
  // may start long before.
  const symptom = symptomOnset(ranked, reportText, end, reported);
  const onset = symptom.onset;
  if (onset != null) {
    // A neighbour's change that was over before the symptom began did not move with it.
    const stale = ranked.filter((f) => f.spec.scope === 'related' && f.change.end != null && f.change.end < onset - 2 * step);
    if (stale.length) {
      notes.push(`left out neighbour changes that ended before the onset: ${stale.slice(0, 4).map((f) => `${f.spec.name} (${iso(f.change.onset!)})`).join('; ')}`);
      for (const f of stale) ranked.splice(ranked.indexOf(f), 1);
    }
    // Rank by how well a change explains the symptom, not by size alone: what began with or
    // before it stays, what began well after it is a consequence, and a neighbour with no
    // declared link that only moved afterwards explains little.
    for (const f of ranked) f.change.score *= explains(f, onset, step);
    ranked.sort((a, b) => b.change.score - a.change.score);
  }
  if (onset != null) {
    const clean = symptom.findings[0].change.baselinePoints;
    const history = Math.round((onset - extent.first) / 60);
    if (clean < CLEAN_BASELINE_POINTS || onset - start < CLEAN_BASELINE_POINTS * step) {
      notes.push(
        `no clean baseline: the data begin at ${iso(extent.first)}, ${history} min before the onset; "before" values come from those ${history} min only and are less certain`,
      );
    }
  } else if (short) {
    notes.push(`little history: the data begin at ${iso(extent.first)}; the baseline is what precedes each series' own change`);
  }

  const limits = new Map<Finding, number>();
  for (const f of ranked.slice(0, MAX_ANOMALIES)) {
    if (f.spec.kind !== 'gauge') continue;
    const mine = [...discovery.families, ...related.families].filter((x) => x.scope === f.spec.scope && x.owner === f.spec.owner);
    const limit = await findLimit(prom, f.spec.family, mine, f.change.onset ?? end);
    if (limit != null) limits.set(f, limit);
  }
  const rollouts = await findRollouts(prom, discovery, range);
  // The last rollout before the symptoms is the suspect; one after them is more likely the fix.
  const suspectedChange = rollouts.filter((r) => onset == null || toUnix(r.ts) <= onset).at(-1)?.id ?? null;
  const culprit = findCulprit({ service, ranked, onset, step, ownChangeBeforeOnset: onset != null ? suspectedChange : null });
  if (culprit) log(`metrics: likely culprit ${culprit.service} (${culprit.why})`);

  const anomalies = ranked.slice(0, MAX_ANOMALIES).map((f) => ({
    name: f.spec.name,
    promql: f.spec.promql,
    onset: f.change.onset != null ? iso(f.change.onset) : null,
    before: f.change.before == null ? null : round3(f.change.before * f.scale),
    after: f.change.after == null ? null : round3(f.change.after * f.scale),
    unit: f.unit || undefined,
    score: Number(f.change.score.toFixed(2)),
  }));
  const timeline = [
    ...rollouts.map((r) => ({ ts: r.ts, source: 'metrics', event: r.description })),
    ...(culprit?.finding ? [{ ts: iso(culprit.finding.change.onset!), source: 'metrics', event: culpritEvent(culprit) }] : []),
    ...ranked.slice(0, 6).map((f) => ({
      ts: iso(f.change.onset!),
      source: 'metrics',
      event: `${f.spec.name} ${f.change.direction === 'down' ? 'fell' : 'rose'} ${describeChange(f, limits.get(f))}`,
    })),
  ].sort((a, b) => a.ts.localeCompare(b.ts));

  const evidence = Evidence.parse({
    onset: onset != null ? iso(onset) : null,
    suspectedChange,
    culprit: culprit?.service ?? null,
    changes: rollouts,
    anomalies,
    timeline,
  });
  const digest = buildDigest({ service, discovery, range, rateWindow: rw.text, ranked, unchanged, limits, onset, rollouts, notes, symptom, culprit });
  return { evidence, digest, tools, warnings };
}

/** Consequences begin this long after the symptom or later. */
const CONSEQUENCE_SECONDS = 10 * 60;

export function explains(f: Finding, onset: number, step: number): number {
  const at = f.change.onset;
  if (at == null) return 1;
  const linked = f.spec.relation === 'dependency' || f.spec.relation === 'variant' || f.spec.relation === 'named';
  if (f.spec.scope === 'related' && !linked && at > onset + 2 * step) return 0.6;
  if (at > onset + CONSEQUENCE_SECONDS) return 0.75;
  return 1;
}

function culpritEvent(c: Culprit): string {
  const f = c.finding!;
  const lead = c.leadSeconds >= 60 ? `, ${Math.round(c.leadSeconds / 60)} min before the reported symptom` : ', with the reported symptom';
  const driver = c.driver ? `; load from ${c.driver.service} rose first (${c.driver.finding.spec.name})` : '';
  return `likely culprit ${c.service}: ${f.spec.name} ${f.change.direction === 'down' ? 'fell' : 'rose'} ${describeChange(f)}${lead}${driver}`;
}
