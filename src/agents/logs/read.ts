import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { fileLineBatches } from './lines';
import type { LogRecord, TimeRange } from './record';

export interface ReadStats {
  files: number;
  lines: number;
  kept: number;
  malformed: number;
}

/** Lists logs/*.jsonl (and .json/.ndjson/.log written as JSON lines), in name order. */
export async function listLogFiles(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { withFileTypes: true });
  return entries
    .filter((e) => e.isFile() && /\.(jsonl|ndjson|json|log)$/i.test(e.name))
    .map((e) => join(dir, e.name))
    .sort();
}

function str(v: unknown): string | null {
  return typeof v === 'string' ? v : typeof v === 'number' ? String(v) : null;
}

/**
 * Parses one JSONL object. The scenario format is {ts, labels, line}; common exporter spellings
 * (timestamp/time, message/msg, stream) are accepted too, since real exports vary.
 */
export function parseRecord(text: string): LogRecord | null {
  let o: unknown;
  try {
    o = JSON.parse(text);
  } catch {
    return null;
  }
  if (!o || typeof o !== 'object' || Array.isArray(o)) return null;
  const r = o as Record<string, unknown>;
  const tsRaw = r.ts ?? r.timestamp ?? r.time ?? r['@timestamp'];
  let ts = NaN;
  if (typeof tsRaw === 'string') ts = /^\d{16,19}$/.test(tsRaw) ? Number(BigInt(tsRaw) / 1_000_000n) : Date.parse(tsRaw);
  else if (typeof tsRaw === 'number') ts = tsRaw > 1e14 ? Math.floor(tsRaw / 1e6) : tsRaw;
  const line = str(r.line ?? r.message ?? r.msg ?? r.log);
  if (!Number.isFinite(ts) || line === null) return null;
  const labels: Record<string, string> = {};
  const rawLabels = r.labels ?? r.stream;
  if (rawLabels && typeof rawLabels === 'object') {
    for (const [k, v] of Object.entries(rawLabels)) {
      const s = str(v);
      if (s !== null) labels[k] = s;
    }
  }
  return { ts, labels, line };
}

/**
 * Streams every record of every log file in `dir` whose time falls inside `range`, so memory
 * stays flat however large the logs are. Order is file order, not time order.
 */
export async function* readLogDir(dir: string, range: TimeRange, stats?: ReadStats): AsyncGenerator<LogRecord> {
  for (const file of await listLogFiles(dir)) {
    if (stats) stats.files++;
    for await (const batch of fileLineBatches(file)) {
      for (const text of batch) {
        if (text.trim() === '') continue;
        if (stats) stats.lines++;
        const rec = parseRecord(text);
        if (!rec) {
          if (stats) stats.malformed++;
          continue;
        }
        if (rec.ts < range.startMs || rec.ts > range.endMs) continue;
        if (stats) stats.kept++;
        yield rec;
      }
    }
  }
}
