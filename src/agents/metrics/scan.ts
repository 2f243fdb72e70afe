import { analyze, analyzeEvents, fillZeros, type Change, type Point } from './changes';
import type { Discovery, Family } from './discover';
import type { PromClient } from './prom';
import type { QuerySpec } from './queries';
import { looksLikeShare } from './units';

/** Runs every query over the analysis range and compares baseline with incident. */

export interface Range {
  start: number;
  end: number;
  step: number;
  /** Points before this are the baseline. */
  baselineEnd: number;
}

export interface Finding {
  spec: QuerySpec;
  change: Change;
  /** Display unit and factor after value-based adjustments (0..1 utilisation gauges → %). */
  unit: string;
  scale: number;
  points: number;
}

const FEW_EVENTS = 50;

async function pool<T, R>(items: T[], n: number, fn: (x: T) => Promise<R>): Promise<R[]> {
  const out: R[] = new Array(items.length);
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(n, items.length) }, async () => {
      while (next < items.length) {
        const i = next++;
        out[i] = await fn(items[i]);
      }
    }),
  );
  return out;
}

export async function scan(
  prom: PromClient,
  specs: QuerySpec[],
  range: Range,
  log: (msg: string) => void,
): Promise<{ findings: Finding[]; errors: string[] }> {
  const errors: string[] = [];
  const results = await pool(specs, 3, async (spec): Promise<Finding | null> => {
    let series;
    try {
      series = await prom.queryRange(spec.promql, range.start, range.end, range.step);
    } catch (e) {
      errors.push(`${spec.name}: ${(e as Error).message}`);
      return null;
    }
    if (spec.groupBy && series.length > 1) {
      // Each group on its own; the most changed one speaks for the family.
      const each = series.map((s) => ({ s, change: analyze(s.values, { baselineEnd: range.baselineEnd }) }));
      each.sort((a, b) => b.change.score - a.change.score);
      const best = each[0];
      const { unit, scale } = displayUnit(spec, best.s.values);
      return { spec: narrow(spec, best.s.metric), change: best.change, unit, scale, points: best.s.values.length };
    }
    let points: Point[] = series[0]?.values ?? [];
    if (spec.zeroWhenAbsent) points = fillZeros(points, range.start, range.end, range.step);
    if (!points.length) return null;
    const { unit, scale } = displayUnit(spec, points);
    const change = analyze(points, { baselineEnd: range.baselineEnd });
    if (spec.kind === 'rate') {
      // A few restarts read better as "3 events" than as 0.0167/s, and when they are too
      // sparse to hold a rate level, counting them is the only way to see them at all.
      const events = analyzeEvents(points, { baselineEnd: range.baselineEnd, step: range.step });
      if (events.score > 0 && (change.score === 0 || (events.after ?? Infinity) < FEW_EVENTS)) {
        return { spec: eventsSpec(spec, range), change: { ...events, score: Math.max(events.score, change.score) }, unit: 'events', scale: 1, points: points.length };
      }
    }
    return { spec, change, unit, scale, points: points.length };
  });
  const findings = results.filter((f): f is Finding => f !== null);
  log(`scanned ${specs.length} queries: ${findings.filter((f) => f.change.score > 0).length} changed, ${errors.length} failed`);
  return { findings, errors };
}

function displayUnit(spec: QuerySpec, points: Point[]): { unit: string; scale: number } {
  if (spec.kind === 'gauge' && spec.unit === '' && looksLikeShare(spec.family, points.map(([, v]) => v))) {
    return { unit: '%', scale: 100 };
  }
  return { unit: spec.unit, scale: spec.scale };
}

/** A grouped query reduced to the one group that changed: the PromQL a person can paste. */
function narrow(spec: QuerySpec, metric: Record<string, string>): QuerySpec {
  const pairs = (spec.groupBy ?? []).filter((l) => metric[l] !== undefined).map((l) => `${l}=${JSON.stringify(metric[l])}`);
  if (!pairs.length || !spec.narrowTo) return spec;
  return { ...spec, name: `${spec.name}{${pairs.join(', ')}}`, promql: spec.narrowTo(pairs.join(', ')), groupBy: undefined };
}

/** The same counter as a count over the incident part of the range (what analyzeEvents reports). */
function eventsSpec(spec: QuerySpec, range: Range): QuerySpec {
  const seconds = Math.max(60, Math.round(range.end - range.baselineEnd));
  const promql = spec.promql.replace(/^sum\(rate\((.*)\[[^\]]+\]\)\)$/, `sum(increase($1[${seconds}s]))`);
  return { ...spec, name: `${spec.family} increase`, promql, unit: 'events', scale: 1 };
}

/** First time the service's series exist and last time, so missing history is not read as zeros. */
export async function dataExtent(prom: PromClient, discovery: Discovery, start: number, end: number, step: number): Promise<{ first: number; last: number } | null> {
  let first = Infinity;
  let last = -Infinity;
  for (const m of discovery.matchers) {
    const res = await prom.queryRange(`count({${m}})`, start, end, step);
    for (const s of res) {
      if (!s.values.length) continue;
      first = Math.min(first, s.values[0][0]);
      last = Math.max(last, s.values[s.values.length - 1][0]);
    }
  }
  return Number.isFinite(first) ? { first, last } : null;
}

/** Median spacing of raw samples: the rate window must span several of them. */
export async function scrapeInterval(prom: PromClient, families: Family[], at: number): Promise<number | null> {
  const f = families.find((x) => x.type === 'counter' || x.type === 'gauge') ?? families[0];
  if (!f) return null;
  const sample = f.samples.find((s) => !s.endsWith('_bucket')) ?? f.samples[0];
  try {
    const res = await prom.query(`${sample}{${f.matcher}}[15m]`, at);
    const s = (res.result as Array<{ values: Point[] }>)[0];
    if (!s || s.values.length < 3) return null;
    const gaps = s.values.slice(1).map(([t], i) => t - s.values[i][0]).sort((a, b) => a - b);
    return gaps[Math.floor(gaps.length / 2)];
  } catch {
    return null;
  }
}
