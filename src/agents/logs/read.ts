import { readdir } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { jsonToRecord } from './jsonrecord';
import { fileLineBatches } from './lines';
import type { LogRecord, TimeRange } from './record';
import { isChangeStream } from './changes';
import { MAY_MATTER, quietJsonLevel, quietTextLevel } from './quick';
import { bracketedStamp, leadingStamp, type StampContext } from './timestamps';

export interface ReadStats {
  files: number;
  lines: number;
  kept: number;
  /** JSON lines that are not a log object (bad JSON, or no time in any known field). */
  malformed: number;
  /** Plain-text lines with no readable time that are not the continuation of a record. */
  unreadable: number;
  /** Continuation lines (stack frames) folded into the record before them. */
  folded: number;
}

export const emptyStats = (): ReadStats => ({ files: 0, lines: 0, kept: 0, malformed: 0, unreadable: 0, folded: 0 });

export interface ReadOptions {
  /** IANA zone for times written without an offset (default UTC). */
  timeZone?: string;
  /** Let quiet INFO/DEBUG lines through as counted-only records (the evidence pass; not the search tools). */
  quick?: boolean;
}

/** JSON lines, plain-text logs, and both gzip-compressed; rotated files (app.log.1, app.log.2.gz) too. */
const LOG_FILE = /\.(jsonl|ndjson|json|log|txt|out|err)(\.\d+)?(\.gz)?$|\.log[.-]\d{8}(\.gz)?$|\.gz$/i;

/** Lists the log files of `dir` in name order. */
export async function listLogFiles(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { withFileTypes: true });
  return entries
    .filter((e) => e.isFile() && LOG_FILE.test(e.name))
    .map((e) => join(dir, e.name))
    .sort();
}

/** Parses one JSONL object (kept for callers that have a line in hand). */
export function parseRecord(text: string, ctx: StampContext = { timeZone: 'UTC', referenceMs: Date.now() }): LogRecord | null {
  let o: unknown;
  try {
    o = JSON.parse(text);
  } catch {
    return null;
  }
  if (!o || typeof o !== 'object' || Array.isArray(o)) return null;
  return jsonToRecord(o as Record<string, unknown>, text, ctx);
}

/**
 * Lines with no time of their own that continue the record before them: stack frames, "Caused
 * by", Python tracebacks, Go panics, indented detail. Checked by first characters only.
 */
const CONTINUATION = /^(?:[ \t]|at |Caused by|\.\.\. \d+ (?:more|common)|Traceback|File "|goroutine \d|panic: |created by |\[signal |[\w.$]+(?:Exception|Error|Throwable|Exit|Interrupt)\b|-{3}|[}\])]|During handling|The above exception)/;

/** At most this much is folded into one record; the rest of a huge trace only counts. */
const MAX_FOLD_CHARS = 16_384;

/** A plain-text file's file-derived labels: the file name names the stream (deploy.log, kube-events.log). */
function fileLabels(file: string): Record<string, string> {
  const name = basename(file);
  const stem = name.replace(/(\.\d+)?(\.gz)?$/i, '').replace(/\.[^.]+$/, '');
  return { file: name, job: stem };
}

/**
 * Streams every record of every log file in `dir` whose time falls inside `range`, so memory
 * stays flat however large the logs are. Order is file order, not time order. A line is JSON
 * when it starts with "{", else plain text with a leading timestamp; multi-line records are
 * folded into their first line.
 */
export async function* readLogDir(dir: string, range: TimeRange, stats?: ReadStats, opts: ReadOptions = {}): AsyncGenerator<LogRecord> {
  const s = stats ?? emptyStats();
  for (const file of await listLogFiles(dir)) {
    s.files++;
    yield* readLogFile(file, range, s, opts);
  }
}

export async function* readLogFile(file: string, range: TimeRange, s: ReadStats, opts: ReadOptions = {}): AsyncGenerator<LogRecord> {
  for await (const batch of readLogFileBatches(file, range, s, opts)) yield* batch;
}

/** As readLogDir, a batch of records per chunk read: one await per thousands of lines, not one per line. */
export async function* readLogDirBatches(dir: string, range: TimeRange, stats?: ReadStats, opts: ReadOptions = {}): AsyncGenerator<LogRecord[]> {
  const s = stats ?? emptyStats();
  for (const file of await listLogFiles(dir)) {
    s.files++;
    yield* readLogFileBatches(file, range, s, opts);
  }
}

export async function* readLogFileBatches(file: string, range: TimeRange, s: ReadStats, opts: ReadOptions = {}): AsyncGenerator<LogRecord[]> {
  const ctx: StampContext = { timeZone: opts.timeZone ?? 'UTC', referenceMs: range.endMs };
  const labels = fileLabels(file);
  // A file named like a change stream (deploys.log, kube-events.log) is read in full.
  const quick = opts.quick === true && !isChangeStream(labels);
  const quietJson = quick ? new QuietJson() : null;
  let pending: LogRecord | null = null;
  let pendingLines = 0;
  const inRange = (r: LogRecord) => r.ts >= range.startMs && r.ts <= range.endMs;
  // Quiet lines are tallied per batch (count, first and last time per level), not kept one by one.
  const tally = { info: 0, debug: 0, min: Infinity, max: -Infinity };
  const count = (level: 'info' | 'debug', ts: number) => {
    if (ts < range.startMs || ts > range.endMs) return;
    tally[level]++;
    if (ts < tally.min) tally.min = ts;
    if (ts > tally.max) tally.max = ts;
  };
  let quietPending = false;
  for await (const batch of fileLineBatches(file)) {
    const out: LogRecord[] = [];
    for (const text of batch) {
      if (text.length === 0 || (text.charCodeAt(0) <= 32 && text.trim() === '')) continue;
      s.lines++;
      if (text.charCodeAt(0) === 123 /* { */) {
        if (quietJson) {
          const q = quietJson.level(text, ctx);
          if (q) {
            if (pending && inRange(pending)) out.push(pending);
            pending = null;
            count(q.level, q.ts);
            continue;
          }
        }
        const rec = parseRecord(text, ctx);
        if (!rec) {
          s.malformed++;
          continue;
        }
        if (pending && inRange(pending)) out.push(pending);
        pending = null;
        quietPending = false;
        if (!rec.labels.file) rec.labels.file = labels.file!;
        if (inRange(rec)) out.push(rec);
        continue;
      }
      const st = leadingStamp(text, ctx) ?? bracketedStamp(text, ctx);
      if (st) {
        if (pending && inRange(pending)) out.push(pending);
        ctx.referenceMs = st.ts;
        if (quick) {
          const q = quietTextLevel(text, st.end);
          if (q && !MAY_MATTER.test(text, text.length, st.end)) {
            // Its continuation lines (rare for INFO) are counted as folded below.
            pending = null;
            quietPending = true;
            count(q, st.ts);
            continue;
          }
        }
        pending = { ts: st.ts, labels, line: text, msgStart: st.end };
        pendingLines = 0;
        quietPending = false;
        continue;
      }
      if ((pending || quietPending) && CONTINUATION.test(text)) {
        s.folded++;
        if (!pending) continue;
        if (pending.line.length < MAX_FOLD_CHARS && pendingLines < 200) {
          pending.line += `\n${text.length > 2000 ? text.slice(0, 2000) : text}`;
          pendingLines++;
        }
        continue;
      }
      s.unreadable++;
    }
    if (tally.info + tally.debug > 0) {
      for (const level of ['info', 'debug'] as const) {
        if (tally[level]) out.push({ ts: tally.min, labels, line: '', quiet: level, quietCount: tally[level], quietLastTs: tally.max });
      }
      s.kept += tally.info + tally.debug;
      tally.info = tally.debug = 0;
      tally.min = Infinity;
      tally.max = -Infinity;
    }
    for (const r of out) if (!r.quiet) s.kept++;
    if (out.length) yield out;
  }
  if (pending && inRange(pending)) {
    s.kept++;
    yield [pending];
  }
}

/**
 * The JSON fast path: a line whose "level" is quiet and in which no word that may matter
 * occurs. The message part is scanned per line; the labels part (the same few streams over and
 * over) is scanned once per distinct text.
 */
class QuietJson {
  private readonly labelVerdicts = new Map<string, boolean>();

  level(text: string, ctx: StampContext): { level: 'info' | 'debug'; ts: number } | null {
    const level = quietJsonLevel(text);
    if (!level) return null;
    let m = -1;
    for (const key of MESSAGE_KEYS_RAW) {
      m = text.indexOf(key);
      if (m >= 0) {
        m += key.length;
        break;
      }
    }
    if (m < 0) return MAY_MATTER.test(text) ? null : this.withTime(level, text, ctx);
    const lb = text.indexOf('"labels":');
    if (lb >= 0 && lb < m) {
      const key = text.slice(lb, m);
      let v = this.labelVerdicts.get(key);
      if (v === undefined) {
        v = MAY_MATTER.test(key);
        if (this.labelVerdicts.size >= 4096) this.labelVerdicts.clear();
        this.labelVerdicts.set(key, v);
      }
      if (v || MAY_MATTER.test(text, lb)) return null;
    } else if (MAY_MATTER.test(text, m)) return null;
    if (MAY_MATTER.test(text, text.length, m)) return null;
    return this.withTime(level, text, ctx);
  }

  private withTime(level: 'info' | 'debug', text: string, ctx: StampContext) {
    const ts = quickJsonTime(text, ctx);
    return ts === null ? null : { level, ts };
  }
}

const MESSAGE_KEYS_RAW = ['"line":"', '"message":"', '"msg":"'];

/** `{"ts":"<stamp>"` (or time/timestamp/@timestamp) near the start of a JSON line, read without parsing the JSON. */
function quickJsonTime(text: string, ctx: StampContext): number | null {
  for (const key of ['"ts":"', '"timestamp":"', '"time":"', '"@timestamp":"']) {
    const k = text.indexOf(key);
    if (k < 0 || k > 200) continue;
    const st = leadingStamp(text.slice(k + key.length, k + key.length + 40), ctx);
    if (st) return st.ts;
    return null;
  }
  return null;
}

/** Warnings for the agent result: what could not be read, counted, never silent. */
export function readWarnings(s: ReadStats): string[] {
  const w: string[] = [];
  if (s.malformed > 0) w.push(`${s.malformed} malformed JSON log lines skipped (not an object with a time field)`);
  if (s.unreadable > 0) w.push(`${s.unreadable} plain-text log lines skipped: no timestamp could be read at the line start`);
  return w;
}
