/**
 * Onset of a burst in a per-minute count series: the first minute whose count exceeds what the
 * minutes before it make plausible, and stays above that for the next minute too (a lone spike
 * is noise). The baseline is trailing, so an incident that started long ago cannot pollute it.
 */
export interface OnsetOptions {
  /** Minutes of history needed before a minute can be called abnormal. */
  minBaseline?: number;
  /** How many trailing minutes form the baseline. */
  baselineMinutes?: number;
  /** Standard deviations above the baseline mean. */
  k?: number;
  /** Lines per minute above the mean that always count as normal (sparse logs). */
  minExcess?: number;
  /** Consecutive abnormal minutes required. */
  sustain?: number;
}

export function thresholdFor(base: number[], o: Required<OnsetOptions>): number {
  const n = base.length;
  const mean = base.reduce((a, b) => a + b, 0) / n;
  const sd = Math.sqrt(base.reduce((a, b) => a + (b - mean) ** 2, 0) / n);
  // Doubling the mean is also required, so a noisy but steady baseline does not trip it.
  return mean + Math.max(o.k * sd, o.minExcess, mean);
}

/** Returns the index into `counts` of the onset minute, or null. */
export function burstOnset(counts: number[], opts: OnsetOptions = {}): number | null {
  const o: Required<OnsetOptions> = { minBaseline: 5, baselineMinutes: 60, k: 4, minExcess: 3, sustain: 2, ...opts };
  for (let i = o.minBaseline; i < counts.length; i++) {
    const base = counts.slice(Math.max(0, i - o.baselineMinutes), i);
    const thr = thresholdFor(base, o);
    if (counts[i]! <= thr) continue;
    let ok = true;
    for (let j = 1; j < o.sustain && i + j < counts.length; j++) if (counts[i + j]! <= thr) ok = false;
    if (ok) return i;
  }
  return null;
}

export interface NewSignatureOnset {
  /** The first line of the signature that starts it: the onset to the millisecond. */
  ms: number;
  signature: string;
  count: number;
  /** Minutes of logs before it (its baseline); under `cleanBaselineMinutes` the baseline is not clean. */
  baselineMinutes: number;
}

interface SigLike {
  signature: string;
  count: number;
  firstSeen: number;
  level: string;
}

/**
 * Onset for sparse or short data, where no burst rule can fire: the first line of a WARN+
 * signature (or an INFO evidence signature) that never occurred before in the logs read (an
 * hour before the window, when there is one), recurs at least `minCount` times, and first
 * appears inside the window after at least a minute of logs. A background warning that was
 * already there before does not qualify, so a healthy window yields none.
 */
export function newSignatureOnset(
  sigs: SigLike[],
  dataStartMs: number,
  window: { startMs: number; endMs: number },
  minCount = 3,
): NewSignatureOnset | null {
  const candidates = sigs.filter(
    (s) => s.count >= minCount && s.firstSeen >= window.startMs && s.firstSeen <= window.endMs && s.firstSeen - dataStartMs >= 60_000,
  );
  if (!candidates.length) return null;
  const sev = (l: string) => (l === 'fatal' || l === 'error' ? 2 : l === 'warn' ? 1 : 0);
  // Earliest first: the onset is where the first new thing appears; severity breaks ties within a minute.
  candidates.sort((a, b) => Math.floor(a.firstSeen / 60_000) - Math.floor(b.firstSeen / 60_000) || sev(b.level) - sev(a.level) || a.firstSeen - b.firstSeen);
  const c = candidates[0]!;
  return { ms: c.firstSeen, signature: c.signature, count: c.count, baselineMinutes: Math.floor((c.firstSeen - dataStartMs) / 60_000) };
}
