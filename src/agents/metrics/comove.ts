import type { PromClient } from './prom';

/**
 * How much a neighbour's series moved around the symptom's onset, read cheaply: one range query
 * per neighbour over the raw series (no rate window, no type knowledge), five points from 15 min
 * before to 5 min after the onset. Counters (`_total`, `_count`, `_sum`) are compared by their
 * increase before and after, gauges by their level. The score is the largest |log(after/before)|
 * among the neighbour's series: 0 for a neighbour that went on as before.
 */

const COUNTER = /(_total|_count|_sum)$/;
const BEFORE = 15 * 60;
const AFTER = 5 * 60;

function moved(name: string, pts: Array<[number, number]>, onset: number): number {
  const at = (t: number) => pts.find(([x]) => Math.abs(x - t) < 1)?.[1];
  let before: number | undefined;
  let after: number | undefined;
  if (COUNTER.test(name)) {
    const [a, b, c, d] = [at(onset - BEFORE), at(onset - BEFORE + AFTER), at(onset), at(onset + AFTER)];
    if (a == null || b == null || c == null || d == null || b < a || d < c) return 0;
    before = b - a;
    after = d - c;
  } else {
    before = at(onset - BEFORE) ?? at(onset - BEFORE + AFTER);
    after = at(onset + AFTER);
  }
  if (before == null || after == null) return 0;
  const eps = 1e-9 + 0.01 * Math.max(Math.abs(before), Math.abs(after));
  return Math.abs(Math.log((Math.abs(after) + eps) / (Math.abs(before) + eps)));
}

export async function coMovement(prom: PromClient, matcher: string, onset: number): Promise<number> {
  try {
    const res = await prom.queryRange(`{${matcher}, __name__!~".*_bucket"}`, onset - BEFORE, onset + AFTER, AFTER);
    let best = 0;
    for (const s of res) best = Math.max(best, moved(s.metric.__name__ ?? '', s.values, onset));
    return best;
  } catch {
    return 0;
  }
}
