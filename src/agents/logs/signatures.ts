import { SEVERITY, type Level } from './levels';

const MINUTE = 60_000;
export const minuteOf = (ms: number) => Math.floor(ms / MINUTE);

export interface SignatureStats {
  signature: string;
  level: Level;
  count: number;
  firstSeen: number;
  lastSeen: number;
  perMinute: Map<number, number>;
}

/** Distinct signatures kept; past this, new shapes are lumped so memory stays bounded. */
const MAX_SIGNATURES = 5000;
const OVERFLOW = '<other signatures>';

/** Groups WARN-and-above lines by signature with counts, first/last seen and a per-minute series. */
export class SignatureTable {
  readonly byKey = new Map<string, SignatureStats>();

  /** `key` groups; `signature` is what is shown (the first line's masked text). */
  add(signature: string, level: Level, ts: number, key: string = signature): void {
    if (!this.byKey.has(key) && this.byKey.size >= MAX_SIGNATURES) key = OVERFLOW;
    let s = this.byKey.get(key);
    if (!s) {
      s = { signature: key === OVERFLOW ? OVERFLOW : signature, level, count: 0, firstSeen: ts, lastSeen: ts, perMinute: new Map() };
      this.byKey.set(key, s);
    }
    s.count++;
    if (SEVERITY[level] > SEVERITY[s.level]) s.level = level;
    if (ts < s.firstSeen) s.firstSeen = ts;
    if (ts > s.lastSeen) s.lastSeen = ts;
    const m = minuteOf(ts);
    s.perMinute.set(m, (s.perMinute.get(m) ?? 0) + 1);
  }

  all(): SignatureStats[] {
    return [...this.byKey.values()];
  }
}

/** Lines of `s` in minutes [fromMin, toMin). */
export function countIn(s: SignatureStats, fromMin: number, toMin: number): number {
  let n = 0;
  for (const [m, c] of s.perMinute) if (m >= fromMin && m < toMin) n += c;
  return n;
}

export interface RankedSignature extends SignatureStats {
  /** Lines beyond what the pre-onset rate predicts: how much of it the incident explains. */
  excess: number;
  anomalous: boolean;
}

/**
 * Orders signatures for topErrors. Signatures that surged with the incident come first (a
 * steady background error, however frequent, is not what broke); among them errors before
 * warnings (an error is what users see); then by excess lines, then by count.
 */
export function rankSignatures(
  sigs: SignatureStats[],
  onsetMin: number | null,
  range: { startMin: number; endMin: number },
): RankedSignature[] {
  const ranked = sigs.map((s): RankedSignature => {
    if (onsetMin === null) return { ...s, excess: s.count, anomalous: true };
    const beforeMinutes = Math.max(1, onsetMin - range.startMin);
    const afterMinutes = Math.max(1, range.endMin - onsetMin + 1);
    const before = countIn(s, range.startMin, onsetMin);
    const after = s.count - before;
    const excess = after - (before / beforeMinutes) * afterMinutes;
    return { ...s, excess, anomalous: after >= 3 && excess >= 0.5 * after };
  });
  const sevClass = (l: Level) => (SEVERITY[l] >= SEVERITY.error ? 1 : 0);
  return ranked.sort(
    (a, b) =>
      Number(b.anomalous) - Number(a.anomalous) ||
      sevClass(b.level) - sevClass(a.level) ||
      b.excess - a.excess ||
      b.count - a.count ||
      a.firstSeen - b.firstSeen,
  );
}
