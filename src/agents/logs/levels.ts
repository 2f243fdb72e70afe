import type { LogRecord } from './record';

export type Level = 'fatal' | 'error' | 'warn' | 'info' | 'debug';
export const SEVERITY: Record<Level, number> = { fatal: 4, error: 3, warn: 2, info: 1, debug: 0 };

export function normalizeLevel(raw: string | undefined | null): Level | null {
  if (!raw) return null;
  const s = raw.trim().toLowerCase();
  if (/^(fatal|crit|critical|panic|emerg|emergency|alert|severe)/.test(s)) return 'fatal';
  if (/^(err|error|e)$/.test(s) || s.startsWith('error')) return 'error';
  if (/^(warn|warning|w)$/.test(s) || s.startsWith('warn')) return 'warn';
  if (/^(info|information|notice|i|n)$/.test(s)) return 'info';
  if (/^(debug|trace|verbose|d|t)$/.test(s)) return 'debug';
  return null;
}

/** JSON-structured lines carry their level and message in fields; plain lines in text. */
export function parseJsonLine(line: string): Record<string, unknown> | null {
  const t = line.trimStart();
  if (!t.startsWith('{')) return null;
  try {
    const o = JSON.parse(t);
    return o && typeof o === 'object' && !Array.isArray(o) ? o : null;
  } catch {
    return null;
  }
}

const TEXT_LEVEL = /(?:^|[\s[|(<"])(FATAL|CRITICAL|CRIT|PANIC|EMERG|SEVERE|ERROR|ERR|WARN|WARNING|INFO|NOTICE|DEBUG|TRACE)(?=$|[\s\]|):>"-])/;
const KV_LEVEL = /\b(?:level|lvl|severity|loglevel)\s{0,3}[=:]\s{0,3}"?([A-Za-z]{1,12})/i;
const EXCEPTION = /\b(?:[A-Z][\w$]{0,120}(?:Exception|Error)|Traceback \(most recent call last\)|panic:|Unhandled(?: promise)? rejection|segmentation fault)/;

/**
 * Level, most trusted source first: stream labels, JSON fields, an explicit level word or
 * level=... in the text, then an exception/stack-trace shape (an unlabelled stack trace is an error).
 */
export function detectLevel(rec: LogRecord, json: Record<string, unknown> | null): Level {
  const l = rec.labels;
  const fromLabel = normalizeLevel(l.level ?? l.severity ?? l.lvl ?? l.detected_level ?? l.log_level);
  if (fromLabel) return fromLabel;
  if (json) {
    const j = json.level ?? json.severity ?? json.lvl ?? json['log.level'] ?? json.levelname;
    const fromJson = typeof j === 'string' ? normalizeLevel(j) : null;
    if (fromJson) return fromJson;
  }
  // Bounded: the level sits in the head of a line, and this keeps crafted lines linear.
  const kv = KV_LEVEL.exec(rec.line.length > 2000 ? rec.line.slice(0, 2000) : rec.line);
  const fromKv = kv ? normalizeLevel(kv[1]) : null;
  if (fromKv) return fromKv;
  // Only the head of the line: a level word deep inside a message is usually quoted data.
  const head = rec.line.slice(0, 120);
  const m = TEXT_LEVEL.exec(head);
  const fromText = m ? normalizeLevel(m[1]) : null;
  if (fromText) return fromText;
  if (EXCEPTION.test(rec.line.length > 4000 ? rec.line.slice(0, 4000) : rec.line)) return 'error';
  return 'info';
}
