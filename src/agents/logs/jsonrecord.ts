/**
 * One JSON log object to a LogRecord, whatever exporter wrote it: the scenario format
 * {ts, labels, line}, Loki/Promtail exports, Docker json-file, OpenTelemetry logs, GCP/Cloud
 * Logging, ECS (Elastic), Bunyan/Pino, zap, Serilog CLEF, GELF, journald JSON, log4j2/logback
 * JSON layouts, and MongoDB's structured log. Fields may be nested ({"log":{"level":..}}) or dotted.
 */
import { leadingStamp, type StampContext } from './timestamps';
import type { LogRecord } from './record';

type Obj = Record<string, unknown>;

/** obj['a.b'] or obj.a.b. */
export function getPath(o: Obj, path: string): unknown {
  if (path in o) return o[path];
  const dot = path.indexOf('.');
  if (dot < 0) return undefined;
  const head = o[path.slice(0, dot)];
  return head && typeof head === 'object' && !Array.isArray(head) ? getPath(head as Obj, path.slice(dot + 1)) : undefined;
}

const TIME_KEYS = [
  'ts', 'timestamp', 'time', '@timestamp', '@t', 'datetime', 'date', 'eventTime', 'timeUnixNano', 'observedTimeUnixNano',
  'Timestamp', 'TimeGenerated', 'asctime', 't', '_time', 'timeMillis', 'instant', 'receiveTimestamp', 'event.created',
  '__REALTIME_TIMESTAMP', 'logged_at', 'created_at', 'time_local',
];
const MESSAGE_KEYS = [
  'line', 'message', 'msg', 'log', 'MESSAGE', '@m', 'body', 'textPayload', 'jsonPayload.message', '@message', 'short_message',
  'full_message', 'event.original', 'log.original', 'rendered_message', '@mt', 'content', 'text', 'Message',
];
const LEVEL_KEYS = ['level', 'severity', 'severityText', 'log.level', 'levelname', 'lvl', '@l', 'loglevel', 'Level', 'SeverityText', 's', 'PRIORITY', 'severity_text'];
const SYSLOG_PRIORITY = ['fatal', 'fatal', 'fatal', 'error', 'warn', 'info', 'info', 'debug'];
const MONGO_SEVERITY: Record<string, string> = { F: 'fatal', E: 'error', W: 'warn', I: 'info', D: 'debug', D1: 'debug', D2: 'debug' };

/** A number or numeric string as epoch ms, guessing its unit from its size. */
function epochMs(n: number): number {
  if (!Number.isFinite(n) || n <= 0) return NaN;
  if (n < 1e11) return n * 1000; // seconds (possibly fractional)
  if (n < 1e14) return n; // ms
  if (n < 1e17) return n / 1e3; // µs
  return n / 1e6; // ns
}

function timeOf(v: unknown, ctx: StampContext): number {
  if (typeof v === 'number') return epochMs(v);
  if (typeof v === 'string') {
    const s = v.trim();
    if (/^\d{10,19}(\.\d+)?$/.test(s)) return epochMs(Number(s));
    const st = leadingStamp(s, ctx);
    if (st) return st.ts;
    const p = Date.parse(s);
    return Number.isNaN(p) ? NaN : p;
  }
  if (v && typeof v === 'object') {
    const o = v as Obj;
    if ('$date' in o) return timeOf(o.$date, ctx); // MongoDB
    if (typeof o.epochSecond === 'number') return o.epochSecond * 1000 + Math.floor(Number(o.nanoOfSecond ?? 0) / 1e6); // log4j2 instant
    if (typeof o.seconds === 'number') return o.seconds * 1000 + Math.floor(Number(o.nanos ?? 0) / 1e6); // protobuf Timestamp
  }
  return NaN;
}

function text(v: unknown): string | null {
  if (typeof v === 'string') return v;
  if (typeof v === 'number' || typeof v === 'boolean') return String(v);
  if (v && typeof v === 'object' && !Array.isArray(v)) {
    const o = v as Obj;
    // OpenTelemetry AnyValue
    if (typeof o.stringValue === 'string') return o.stringValue;
  }
  return null;
}

function levelOf(o: Obj): string | null {
  for (const k of LEVEL_KEYS) {
    const v = getPath(o, k);
    if (v === undefined || v === null) continue;
    if (k === 'PRIORITY') return SYSLOG_PRIORITY[Number(v)] ?? null;
    if (k === 's' && typeof v === 'string') return MONGO_SEVERITY[v] ?? null;
    // Numbers: syslog severities 0-7 (GELF), else Bunyan/Pino (30 info, 40 warn, 50 error, 60 fatal).
    if (typeof v === 'number') return v <= 7 ? (SYSLOG_PRIORITY[v] ?? null) : v >= 60 ? 'fatal' : v >= 50 ? 'error' : v >= 40 ? 'warn' : v >= 30 ? 'info' : 'debug';
    if (typeof v === 'string' && v.trim()) return v.trim();
  }
  const n = o.severityNumber;
  if (typeof n === 'number') return n >= 21 ? 'fatal' : n >= 17 ? 'error' : n >= 13 ? 'warn' : n >= 9 ? 'info' : 'debug';
  return null;
}

function addLabels(into: Record<string, string>, v: unknown, prefix = ''): void {
  if (!v || typeof v !== 'object') return;
  if (Array.isArray(v)) {
    // OpenTelemetry attributes: [{key, value: {stringValue}}]
    for (const a of v) if (a && typeof a === 'object' && typeof (a as Obj).key === 'string') {
      const s = text((a as Obj).value);
      if (s !== null) into[`${prefix}${(a as Obj).key as string}`] = s;
    }
    return;
  }
  for (const [k, val] of Object.entries(v as Obj)) {
    const s = text(val);
    if (s !== null && s.length <= 256) into[`${prefix}${k}`] = s;
    else if (val && typeof val === 'object' && !prefix && (k === 'labels' || k === 'attributes')) addLabels(into, val);
  }
}

/** Parsed JSON object to a record, or a reason it is not one. */
export function jsonToRecord(o: Obj, raw: string, ctx: StampContext): LogRecord | null {
  let ts = NaN;
  for (const k of TIME_KEYS) {
    const v = getPath(o, k);
    if (v === undefined || v === null || v === '') continue;
    ts = timeOf(v, ctx);
    if (Number.isFinite(ts)) break;
  }
  if (!Number.isFinite(ts)) return null;
  const labels: Record<string, string> = {};
  if (typeof o.stream === 'string') labels.stream = o.stream; // Docker json-file: stdout/stderr
  else addLabels(labels, o.labels ?? o.stream);
  addLabels(labels, o.kubernetes);
  addLabels(labels, getPath(o, 'resource.labels') ?? getPath(o, 'resource.attributes') ?? getPath(o, 'resource'));
  const level = levelOf(o);
  if (level && labels.level === undefined) labels.level = level;
  for (const k of ['service', 'service.name', 'app', 'logger', 'logger_name', 'job', 'source']) {
    const v = getPath(o, k);
    if (typeof v === 'string' && labels[k] === undefined && v.length <= 256) labels[k] = v;
  }
  let line: string | null = null;
  for (const k of MESSAGE_KEYS) {
    line = text(getPath(o, k));
    if (line !== null && line !== '') break;
  }
  // A structured event without a message field is still an event: its JSON is the line.
  if (line === null || line === '') line = raw;
  else {
    // Error details kept apart from the message are part of what went wrong.
    for (const k of ['error', 'err', 'exception', 'error.message', 'stack_trace', 'stacktrace', 'exc_info', 'error.stack_trace']) {
      const e = text(getPath(o, k));
      if (e && !line.includes(e.split('\n')[0]!)) {
        line = `${line}: ${e}`;
        break;
      }
    }
  }
  return { ts, labels, line };
}
