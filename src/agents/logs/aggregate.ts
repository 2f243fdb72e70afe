import { detectChange, dedupeChanges, type Change } from './changes';
import { detectLevel, parseJsonLine, SEVERITY, type Level } from './levels';
import { groupingKey, messageOf, signatureOf } from './mask';
import type { LogRecord } from './record';
import { minuteOf, SignatureTable } from './signatures';

/** Everything the log agent needs from one pass over the lines; memory grows with signatures, not lines. */
export class LogAggregate {
  readonly table = new SignatureTable();
  readonly levels: Record<Level, number> = { fatal: 0, error: 0, warn: 0, info: 0, debug: 0 };
  /** WARN-and-above lines per minute, and the first such line's time in each minute. */
  readonly problemPerMinute = new Map<number, number>();
  readonly problemFirstTs = new Map<number, number>();
  private rawChanges: Change[] = [];
  firstTs = Infinity;
  lastTs = -Infinity;
  lines = 0;

  add(rec: LogRecord): void {
    this.lines++;
    if (rec.ts < this.firstTs) this.firstTs = rec.ts;
    if (rec.ts > this.lastTs) this.lastTs = rec.ts;
    const json = parseJsonLine(rec.line);
    const level = detectLevel(rec, json);
    this.levels[level]++;
    // logfmt fields (flag=..., version=...) name the change, so only JSON lines are reduced to their message.
    const change = detectChange(rec, level, json, json ? messageOf(rec.line, json) : rec.line);
    if (change) {
      this.rawChanges.push(change);
      return;
    }
    if (SEVERITY[level] < SEVERITY.warn) return;
    const sig = signatureOf(rec.line, json);
    this.table.add(sig, level, rec.ts, groupingKey(sig));
    const m = minuteOf(rec.ts);
    this.problemPerMinute.set(m, (this.problemPerMinute.get(m) ?? 0) + 1);
    const first = this.problemFirstTs.get(m);
    if (first === undefined || rec.ts < first) this.problemFirstTs.set(m, rec.ts);
  }

  changes(): Change[] {
    return dedupeChanges(this.rawChanges);
  }

  /** Zero-filled per-minute series from the first line of any level (not the window start: no fake quiet baseline). */
  problemSeries(endMs: number): { startMin: number; counts: number[] } {
    if (!Number.isFinite(this.firstTs)) return { startMin: minuteOf(endMs), counts: [] };
    const startMin = minuteOf(this.firstTs);
    const endMin = minuteOf(Math.min(endMs, this.lastTs));
    const counts: number[] = [];
    for (let m = startMin; m <= endMin; m++) counts.push(this.problemPerMinute.get(m) ?? 0);
    return { startMin, counts };
  }
}
