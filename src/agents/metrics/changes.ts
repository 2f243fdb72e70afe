/**
 * Baseline-versus-incident comparison of one time series.
 *
 * The baseline band is the baseline median ± max(4 robust sigmas, 10% of the median). The onset is
 * the first point after the baseline that leaves the band and stays out on the same side for the
 * next two steps (one noisy scrape is not an onset). "After" is the median of the out-of-band
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

const NONE: Change = { before: null, after: null, peak: null, onset: null, direction: null, score: 0, relChange: 0, persistence: 0, baselinePoints: 0 };
const MIN_BASELINE = 6;
/** Below this relative change a persistent shift is still not worth the commander's attention. */
export const MIN_REL_CHANGE = 0.15;

export interface AnalyzeOptions {
  /** Points strictly before this are the baseline. */
  baselineEnd: number;
  /** When the baseline has too few points, the head of the series up to this fraction is used. */
  headFraction?: number;
  /** Consecutive out-of-band points required after the first (2 = three points). */
  persistSteps?: number;
}

export function analyze(points: Point[], opts: AnalyzeOptions): Change {
  if (points.length < 4) return NONE;
  let base = points.filter(([t]) => t < opts.baselineEnd);
  let rest = points.filter(([t]) => t >= opts.baselineEnd);
  if (base.length < MIN_BASELINE) {
    // No history before the window: the first part of the window stands in for it.
    const n = Math.max(4, Math.floor(points.length * (opts.headFraction ?? 0.25)));
    base = points.slice(0, n);
    rest = points.slice(n);
  }
  if (rest.length < 3) return { ...NONE, before: median(base.map(([, v]) => v)), baselinePoints: base.length };

  const bv = base.map(([, v]) => v);
  const center = median(bv);
  const sigma = 1.4826 * median(bv.map((v) => Math.abs(v - center)));
  const scaleAll = Math.max(...points.map(([, v]) => Math.abs(v)), 1e-12);
  const tiny = 1e-6 * scaleAll;
  const half = Math.max(4 * sigma, 0.1 * Math.abs(center), tiny);
  const side = (v: number) => (v > center + half ? 1 : v < center - half ? -1 : 0);

  const persist = opts.persistSteps ?? 2;
  let onsetIdx = -1;
  for (let i = 0; i < rest.length; i++) {
    const s = side(rest[i][1]);
    if (s === 0) continue;
    const run = rest.slice(i, i + persist + 1);
    if (run.length === persist + 1 && run.every(([, v]) => side(v) === s)) {
      onsetIdx = i;
      break;
    }
  }
  const before = center;
  if (onsetIdx < 0) return { ...NONE, before, after: median(rest.map(([, v]) => v)), baselinePoints: base.length };

  const dir = side(rest[onsetIdx][1]);
  const post = rest.slice(onsetIdx);
  const out = post.filter(([, v]) => side(v) === dir).map(([, v]) => v);
  const after = median(out);
  const peak = dir > 0 ? Math.max(...out) : Math.min(...out);
  const delta = Math.abs(after - before);
  const relChange = Math.min(delta / Math.max(Math.abs(before), 0.01 * Math.abs(after), tiny), 100);
  const z = Math.min(delta / Math.max(sigma, 0.02 * Math.abs(before), tiny), 100);
  const persistence = out.length / post.length;
  const credible = relChange >= MIN_REL_CHANGE && persistence >= 0.5;
  const score = credible ? persistence * (Math.log1p(relChange) + 0.5 * Math.log1p(z)) : 0;
  return {
    before,
    after,
    peak,
    onset: rest[onsetIdx][0],
    direction: dir > 0 ? 'up' : 'down',
    score,
    relChange,
    persistence,
    baselinePoints: base.length,
  };
}

/** Counter-derived series are zero where they do not exist (no events yet); fill the grid. */
export function fillZeros(points: Point[], start: number, end: number, step: number): Point[] {
  const have = new Map(points.map(([t, v]) => [Math.round(t), v]));
  const out: Point[] = [];
  for (let t = start; t <= end + 1e-9; t += step) out.push([t, have.get(Math.round(t)) ?? 0]);
  return out;
}
