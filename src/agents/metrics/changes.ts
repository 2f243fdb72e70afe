/**
 * Baseline-versus-incident comparison of one time series.
 *
 * The baseline band is the baseline median ± max(4 robust sigmas, 10% of the median), widened to
 * the baseline's own 1st-99th percentiles. The onset is the first point after the baseline that
 * leaves the band, stays out on the same side for the next two steps (one noisy scrape is not an
 * onset) and from where the series spends at least half its remaining time out of the band. "After" is the median of the out-of-band
 * points from the onset on: the level the series moved to, not a single spike. The score grows
 * with the relative change and the robust z-score (both log-damped) and is weighted by how
 * persistently the series stayed out of the band.
 */

export type Point = [number, number];

export interface Change {
  before: number | null;
  after: number | null;
  peak: number | null;
  onset: number | null;
  /** Last out-of-band point of the change: a blip that recovered long ago ends early. */
  end: number | null;
  direction: 'up' | 'down' | null;
  /** 0 when nothing credible changed. */
  score: number;
  relChange: number;
  persistence: number;
  baselinePoints: number;
}

export const quantile = (xs: number[], q: number): number => {
  if (!xs.length) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  const pos = (s.length - 1) * q;
  const lo = Math.floor(pos);
  const hi = Math.ceil(pos);
  return s[lo] + (s[hi] - s[lo]) * (pos - lo);
};
export const median = (xs: number[]) => quantile(xs, 0.5);

const NONE: Change = { before: null, after: null, peak: null, onset: null, end: null, direction: null, score: 0, relChange: 0, persistence: 0, baselinePoints: 0 };
const MIN_BASELINE = 6;
/** Out-of-band points an excursion needs before it can date a change. */
const MIN_EPISODE = 4;
/** In-band points that end an excursion (shorter dips back are part of it). */
const EPISODE_GAP = 4;

interface Episode {
  side: number;
  start: number;
  end: number;
  out: number;
}

/**
 * Excursions out of the band: they start with `persist`+1 consecutive points on one side and
 * end after EPISODE_GAP points that are not on that side.
 */
export function findEpisodes(sides: number[], persist: number): Episode[] {
  const episodes: Episode[] = [];
  let i = 0;
  while (i < sides.length) {
    const s = sides[i];
    const run = sides.slice(i, i + persist + 1);
    if (s === 0 || run.length < persist + 1 || !run.every((x) => x === s)) {
      i++;
      continue;
    }
    let end = i;
    let out = 0;
    let gap = 0;
    let j = i;
    for (; j < sides.length && gap < EPISODE_GAP; j++) {
      if (sides[j] === s) {
        out++;
        end = j;
        gap = 0;
      } else gap++;
    }
    episodes.push({ side: s, start: i, end, out });
    i = end + 1;
  }
  return episodes;
}
/** Below this relative change a persistent shift is still not worth the commander's attention. */
export const MIN_REL_CHANGE = 0.15;

export interface AnalyzeOptions {
  /** Points strictly before this are the baseline. */
  baselineEnd: number;
  /** Consecutive out-of-band points required after the first (2 = three points). */
  persistSteps?: number;
}

export function analyze(points: Point[], opts: AnalyzeOptions): Change {
  if (points.length < 4) return NONE;
  let base = points.filter(([t]) => t < opts.baselineEnd);
  let rest = points.filter(([t]) => t >= opts.baselineEnd);
  const short = base.length < MIN_BASELINE;
  if (short) {
    // Little or no history before the window (data that begins a minute or two before the
    // fault): the baseline is what precedes the series' own change point, never a fixed head
    // of the window, which would already be faulty.
    const n = baselineSplit(points.map(([, v]) => v));
    base = points.slice(0, n);
    rest = points.slice(n);
  }
  if (rest.length < 3) return { ...NONE, before: median(base.map(([, v]) => v)), baselinePoints: base.length };

  const bv = base.map(([, v]) => v);
  const center = median(bv);
  const scaleAll = Math.max(...points.map(([, v]) => Math.abs(v)), 1e-12);
  const tiny = 1e-6 * scaleAll;
  // A handful of points says little about a series' spread: assume at least 10% (short: 25%)
  // wobble, so noise measured against a few quiet points is not called a change.
  const sigma = Math.max(1.4826 * median(bv.map((v) => Math.abs(v - center))), short ? 0.1 * Math.abs(center) : 0);
  const half = Math.max(4 * sigma, (short ? 0.25 : 0.1) * Math.abs(center), tiny);
  // Quantised or skewed baselines (counts of rare errors) have MAD 0 but still wander: the band
  // always covers what the baseline itself did, except its most extreme 1%.
  const hi = Math.max(center + half, quantile(bv, 0.99));
  const lo = Math.min(center - half, quantile(bv, 0.01));
  const side = (v: number) => (v > hi ? 1 : v < lo ? -1 : 0);

  const episodes = findEpisodes(rest.map(([, v]) => side(v)), opts.persistSteps ?? 2);
  const before = center;
  const unchanged = { ...NONE, before, after: median(rest.map(([, v]) => v)), baselinePoints: base.length };
  if (!episodes.length) return unchanged;
  // The largest excursion says which way the series went; the first substantial one on that
  // side says when. A lone wobble before it, or on the other side, does not date the change.
  const main = episodes.reduce((m, e) => (e.out > m.out ? e : m));
  const same = episodes.filter((e) => e.side === main.side && e.out >= MIN_EPISODE);
  if (!same.length) return unchanged;
  const last = same[same.length - 1];
  const dir = main.side;
  const density = (e: Episode) => {
    const span = rest.slice(e.start, last.end + 1);
    return span.filter(([, v]) => side(v) === dir).length / span.length;
  };
  // Earlier excursions join the change only if it is mostly out of band from there on and
  // they are not separated from it by a long calm: an earlier, unrelated blip that recovered
  // does not date the change (flapping just before it does).
  let first = main;
  for (let k = same.indexOf(main) - 1; k >= 0; k--) {
    const e = same[k];
    const calm = first.start - e.end - 1;
    if (calm > Math.max(2 * EPISODE_GAP, e.out) || density(e) < 0.7) break;
    first = e;
  }
  const span = rest.slice(first.start, last.end + 1);
  const out = span.filter(([, v]) => side(v) === dir).map(([, v]) => v);
  const after = median(out);
  const peak = dir > 0 ? Math.max(...out) : Math.min(...out);
  const delta = Math.abs(after - before);
  const relChange = Math.min(delta / Math.max(Math.abs(before), 0.01 * Math.abs(after), tiny), 100);
  const z = Math.min(delta / Math.max(sigma, 0.02 * Math.abs(before), tiny), 100);
  const persistence = out.length / span.length;
  // Short excursions count, but less than a shift that lasts (12 points: 3-6 minutes).
  const duration = Math.min(1, out.length / 12);
  const credible = relChange >= MIN_REL_CHANGE && persistence >= 0.5;
  const score = credible ? persistence * duration * (Math.log1p(relChange) + 0.5 * Math.log1p(z)) : 0;
  const onsetIdx = first.start;
  return {
    before,
    after,
    peak,
    onset: rest[onsetIdx][0],
    end: rest[last.end][0],
    direction: dir > 0 ? 'up' : 'down',
    score,
    relChange,
    persistence,
    baselinePoints: base.length,
  };
}

/**
 * Where a series with no usable history changes level: the split that best separates a calm
 * head from the rest (a t-like statistic on the two sides' means). Returns the number of head
 * points to use as baseline; at least 3, and the first quarter when no split stands out.
 */
export function baselineSplit(values: number[]): number {
  const n = values.length;
  const fallback = Math.max(3, Math.floor(n * 0.25));
  if (n < 8) return Math.min(fallback, n);
  const prefix = [0];
  const prefix2 = [0];
  for (const v of values) {
    prefix.push(prefix[prefix.length - 1] + v);
    prefix2.push(prefix2[prefix2.length - 1] + v * v);
  }
  let best = -1;
  let bestStat = 0;
  for (let k = 3; k <= n - 3; k++) {
    const m1 = prefix[k] / k;
    const m2 = (prefix[n] - prefix[k]) / (n - k);
    const ss1 = prefix2[k] - k * m1 * m1;
    const ss2 = prefix2[n] - prefix2[k] - (n - k) * m2 * m2;
    const sd = Math.sqrt(Math.max(ss1 + ss2, 0) / Math.max(n - 2, 1));
    const floor = 0.02 * Math.max(Math.abs(m1), Math.abs(m2), 1e-12);
    const stat = (Math.abs(m2 - m1) / Math.max(sd, floor)) * Math.sqrt((k * (n - k)) / n);
    if (stat > bestStat) {
      bestStat = stat;
      best = k;
    }
  }
  // Below this the two sides are the same level give or take noise: no change point.
  return best > 0 && bestStat >= 6 ? best : fallback;
}

/** Counter-derived series are zero where they do not exist (no events yet); fill the grid. */
export function fillZeros(points: Point[], start: number, end: number, step: number): Point[] {
  const have = new Map(points.map(([t, v]) => [Math.round(t), v]));
  const out: Point[] = [];
  for (let t = start; t <= end + 1e-9; t += step) out.push([t, have.get(Math.round(t)) ?? 0]);
  return out;
}

/**
 * Sparse event counters (restarts, OOM kills, failovers) never hold a level long enough for
 * `analyze`: a handful of increments make short rate blips. Integrating the rate recovers the
 * event counts; baseline and incident are compared per unit of time.
 */
export function analyzeEvents(points: Point[], opts: { baselineEnd: number; step: number }): Change {
  const base = points.filter(([t]) => t < opts.baselineEnd);
  const rest = points.filter(([t]) => t >= opts.baselineEnd);
  if (base.length < MIN_BASELINE || rest.length < 3) return NONE;
  const events = (ps: Point[]) => ps.reduce((s, [, v]) => s + v * opts.step, 0);
  const restSpan = rest.length * opts.step;
  // Events are whole; the integral of a sampled rate is only close to the count.
  const before = Math.round((events(base) / (base.length * opts.step)) * restSpan);
  const after = Math.round(events(rest));
  if (after < 2 || after < 3 * before + 1) return { ...NONE, before, after, baselinePoints: base.length };
  const baseMax = Math.max(0, ...base.map(([, v]) => v));
  const first = rest.find(([, v]) => v > baseMax * 1.5 && v > 0);
  const score = 0.8 * Math.min(3, Math.log1p(after - before));
  return {
    before,
    after,
    peak: after,
    onset: first ? first[0] : null,
    end: first ? [...rest].reverse().find(([, v]) => v > 0)![0] : null,
    direction: 'up',
    score,
    relChange: Math.min((after - before) / Math.max(before, 1), 100),
    persistence: 1,
    baselinePoints: base.length,
  };
}
