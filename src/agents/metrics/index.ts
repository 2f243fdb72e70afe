import { Evidence, type AgentInput } from '../../schemas/agent';
import type { Gather, Gathered } from '../types';
import { describeChange, buildDigest } from './digest';
import { discover } from './discover';
import { iso, round3 } from './format';
import { findLimit } from './limits';
import { PromClient, toUnix } from './prom';
import { buildQueries } from './queries';
import { findRelated } from './related';
import { findRollouts } from './rollouts';
import { dataExtent, scan, scrapeInterval, type Finding, type Range } from './scan';
import { metricsTools } from './tools';

/**
 * metrics_agent's evidence: discover the service's series, turn them into rates, quantiles and
 * ratios, compare the incident window with the hour before it, and rank what moved.
 */

const BASELINE_SECONDS = 3600;
const MAX_QUERIES = 150;
const MAX_ANOMALIES = 12;
/** Changes this close to the strongest one are credible enough to date the onset. */
const ONSET_SCORE_FRACTION = 0.5;
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
  const start = Math.max(lookStart, extent.first + rw.seconds);
  const end = Math.min(windowEnd, extent.last);
  const range: Range = { start, end, step, baselineEnd: windowStart };
  if (windowStart - start < 6 * step) notes.push('little or no data before the incident window; the first quarter of the range served as baseline');

  const related = await findRelated(
    prom,
    discovery,
    service,
    [input.incident.title, input.incident.report, input.task].join('\n'),
    lookStart,
    windowEnd,
  );
  if (related.groups.length) notes.push(`also scanned neighbours: ${related.groups.join('; ')}`);
  log(`metrics: ${related.families.length} related families (${related.groups.join('; ') || 'none'})`);

  let specs = [...buildQueries(discovery.families, rw.text), ...buildQueries(related.families, rw.text)];
  if (specs.length > MAX_QUERIES) {
    warnings.push(`${specs.length} queries for ${service}; only the first ${MAX_QUERIES} were run`);
    specs = specs.slice(0, MAX_QUERIES);
  }
  const { findings, errors } = await scan(prom, specs, range, log);
  if (errors.length) warnings.push(...errors.slice(0, 5).map((e) => `query failed: ${e}`));

  for (const f of findings) if (f.spec.scope === 'related') f.change.score *= RELATED_WEIGHT;
  const ranked = findings.filter((f) => f.change.score > 0).sort((a, b) => b.change.score - a.change.score);
  const unchanged = findings.filter((f) => f.change.score === 0);
  // The onset is when the service's symptoms began; a neighbour's slow drift may start hours earlier.
  const own = ranked.filter((f) => f.spec.scope === 'service');
  const onset = credibleOnset(own.length ? own : ranked);

  const limits = new Map<Finding, number>();
  for (const f of ranked.slice(0, MAX_ANOMALIES)) {
    if (f.spec.kind !== 'gauge') continue;
    const limit = await findLimit(prom, f.spec.family, [...discovery.families, ...related.families].filter((x) => x.scope === f.spec.scope), f.change.onset ?? end);
    if (limit != null) limits.set(f, limit);
  }
  const rollouts = await findRollouts(prom, discovery, range);

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
    ...ranked.slice(0, 6).map((f) => ({
      ts: iso(f.change.onset!),
      source: 'metrics',
      event: `${f.spec.name} ${f.change.direction === 'down' ? 'fell' : 'rose'} ${describeChange(f, limits.get(f))}`,
    })),
  ].sort((a, b) => a.ts.localeCompare(b.ts));

  const evidence = Evidence.parse({
    onset: onset != null ? iso(onset) : null,
    // The last rollout before the symptoms is the suspect; one after them is more likely the fix.
    suspectedChange: rollouts.filter((r) => onset == null || toUnix(r.ts) <= onset).at(-1)?.id ?? null,
    changes: rollouts,
    anomalies,
    timeline,
  });
  const digest = buildDigest({ service, discovery, range, rateWindow: rw.text, ranked, unchanged, limits, onset, rollouts, notes });
  return { evidence, digest, tools, warnings };
}

/** The earliest onset among changes nearly as strong as the strongest; weak wobbles do not get to date the incident. */
export function credibleOnset(ranked: Finding[]): number | null {
  if (!ranked.length) return null;
  const top = ranked[0].change.score;
  const onsets = ranked
    .slice(0, 5)
    .filter((f) => f.change.score >= ONSET_SCORE_FRACTION * top && f.change.onset != null)
    .map((f) => f.change.onset!);
  return onsets.length ? Math.min(...onsets) : null;
}
