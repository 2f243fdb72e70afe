/**
 * Turns a log message into an error signature: the variable parts (ids, numbers, durations,
 * emails, quoted values...) become placeholders so that lines differing only in them group
 * together, while the exception class and its source location stay intact.
 */

/**
 * Each pattern comes with a gate: text the pattern cannot match without (a literal it requires,
 * or a digit). Testing the gate is far cheaper than a failing regex scan, and when the gate
 * fails the replace would have been a no-op, so skipping it changes nothing.
 */
type Gate = (s: string) => boolean;
const has =
  (...chars: string[]): Gate =>
  (s) =>
    chars.every((c) => s.includes(c));
const DIGIT = /\d/;
const hasDigit: Gate = (s) => DIGIT.test(s);

const PROTECT: [RegExp, Gate | null][] = [
  // Source locations: PaymentProcessor.java:142, app.py:88, main.go:31:7
  [/\b[\w$-]+\.(?:java|kt|kts|scala|groovy|clj|py|go|rb|js|mjs|cjs|jsx|ts|tsx|cs|cpp|cc|c|h|hpp|rs|php|swift|ex|exs|erl|dart|lua):\d+(?::\d+)?\b/g, has('.', ':')],
  // Python tracebacks: File "x.py", line 42
  [/\.py", line \d+/g, has('.py", line ')],
  // StatefulSet members (es-data-2, kafka-broker-0) are stable identities, not random ids: which
  // node fails is the finding.
  [/\b[a-z]+(?:-[a-z]+)+-\d{1,2}\b(?!-)/g, has('-')],
  // HTTP status words keep their code meaning: "HTTP 503", "status 502" are part of the failure mode.
  [/\b(?:HTTP|status(?: code)?|code)[ =:]\s?[1-5]\d\d\b/gi, hasDigit],
];

const MASKS: [RegExp, string, Gate | null][] = [
  [/\b[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}\b/g, '<email>', has('@')],
  [/\[REDACTED:(\w+)\]/g, '<$1>', has('[REDACTED:')],
  [/\b[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\b/gi, '<uuid>', has('-')],
  [/\b\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(?::\d{2}(?:[.,]\d+)?)?(?:Z|[+-]\d{2}:?\d{2})?/g, '<ts>', has('-', ':')],
  [/\b\d{2}:\d{2}:\d{2}(?:[.,]\d+)?\b/g, '<time>', has(':')],
  [/(?<![\w.])(?:\d{1,3}\.){3}\d{1,3}(?::\d+)?(?![\w.])/g, '<ip>', has('.')],
  [/(?<![\w:])(?:[0-9a-f]{1,4}:){2,7}[0-9a-f]{1,4}(?![\w:])/gi, '<ip>', has(':')],
  [/"(?:[^"\\]|\\.)*"/g, '"<str>"', has('"')],
  [/(?<![\w])'(?:[^'\\]|\\.)*'(?!\w)/g, "'<str>'", has("'")],
  [/\b0x[0-9a-f]+\b/gi, '<hex>', (s) => s.includes('0x') || s.includes('0X')],
  [/\b(?=[0-9a-f]*\d)(?=[0-9a-f]*[a-f])[0-9a-f]{8,}\b/gi, '<hex>', hasDigit],
  [/\bv?\d+\.\d+\.\d+(?:[-+.][\w.]+)?\b/g, '<version>', has('.')],
  [/(?<![\w.])\d+(?:\.\d+)?\s?(?:ns|us|µs|ms|s|sec|secs|seconds?|m|min|mins|minutes?|h|hrs?|hours?|d|days?)\b/gi, '<dur>', hasDigit],
  // Random-looking ids behind a short prefix even without digits: ord_BUJCXFKBNN, msg_VSIiEayk...
  [/\b([a-z]{2,6}_)(?=[A-Za-z0-9]*[A-Z])[A-Za-z0-9]{8,}\b/g, '$1<id>', has('_')],
  // Kubernetes pod names: <replicaset hash>-<5 random chars>, letters only or not.
  [/(<hex>|\b[a-f0-9]{8,10})-[a-z0-9]{5}\b/g, '<hex>-<id>', has('-')],
  // A value after key= or key: is an id whatever its shape, so order=1234 and order=ab12 group together.
  [/([=:]\s?)(?=[\w.-]*\d)[\w.-]+/g, '$1<id>', (s) => (s.includes('=') || s.includes(':')) && hasDigit(s)],
  // Tokens mixing letters and digits are ids (order_8f3a2, req-12345, pod-7d9f8): keep a leading word.
  [/\b([A-Za-z]+[-_:#/])?((?=[A-Za-z0-9]*\d)[A-Za-z0-9]+)\b/g, '\u0001$1\u0002$2', hasDigit],
];

function maskIdToken(s: string): string {
  if (!s.includes('\u0001')) return s;
  return s.replace(/\u0001([^\u0002]*)\u0002([A-Za-z0-9]+)/g, (_m, prefix: string, tok: string) =>
    // Prefixed (ord_123, ord_ab1) is always an id; a bare number is a count or size.
    `${prefix}${prefix === '' && /^\d+$/.test(tok) ? '<n>' : '<id>'}`,
  );
}

/** Placeholder keys spell the index's decimal digits as letters g-p, so no mask (digits, hex) touches them. */
const indexKey = (i: number) => [...String(i)].map((d) => String.fromCharCode(103 + Number(d))).join('');
const keyIndex = (k: string) => Number([...k].map((c) => c.charCodeAt(0) - 103).join(''));

export function maskMessage(msg: string): string {
  const kept: string[] = [];
  let s = msg;
  for (const [re, gate] of PROTECT) {
    if (gate && !gate(s)) continue;
    s = s.replace(re, (m) => {
      kept.push(m);
      return `\u0000${indexKey(kept.length - 1)}\u0000`;
    });
  }
  for (const [re, to, gate] of MASKS) if (!gate || gate(s)) s = s.replace(re, to);
  s = maskIdToken(s);
  s = s.replace(/\s+/g, ' ').trim();
  // Restore last, so the protected text is never seen by the masks.
  if (!s.includes('\u0000')) return s;
  return s.replace(/\u0000([g-p]+)\u0000/g, (_m, k: string) => kept[keyIndex(k)] ?? '');
}

const LEADING_TS = /^\s*\[?\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(?::\d{2}(?:[.,]\d+)?)?(?:Z|[+-]\d{2}:?\d{2})?\]?\s*/;
const LEADING_LEVEL = /^\[?\s*(?:FATAL|CRITICAL|CRIT|PANIC|SEVERE|ERROR|ERR|WARN|WARNING|INFO|NOTICE|DEBUG|TRACE)\b\s*\]?:?\s*/i;
const LEVEL_KV = /\b(?:level|lvl|severity)\s*=\s*"?\w+"?\s*/gi;
const FRAME = /\bat [\w$.<>]{1,300}\(([\w$-]{1,120}\.\w{1,8}:\d{1,7})\)|File "[^"\n]{0,300}?([\w-]{1,120}\.py)", line (\d{1,7})/;

/**
 * The message part of a line: JSON fields if structured, else the text without its timestamp and
 * level prefix. For a multi-line stack trace, the first line plus the first frame's location.
 */
export function messageOf(line: string, json: Record<string, unknown> | null): string {
  let msg = line;
  if (json) {
    const parts: string[] = [];
    for (const k of ['msg', 'message', 'error', 'err', 'exception', 'error.message', 'exc_info', 'stack_trace', 'stacktrace']) {
      const v = json[k];
      if (typeof v === 'string' && v.trim() && !parts.some((p) => p.includes(v.split('\n')[0]!))) parts.push(v);
      else if (v && typeof v === 'object') parts.push(JSON.stringify(v));
    }
    if (parts.length) msg = parts.join(': ');
  }
  if (!json) msg = logfmtMessage(msg) ?? msg;
  const [first, ...rest] = msg.split(/\r?\n/);
  let head = (first ?? '').replace(LEADING_TS, '').replace(LEADING_LEVEL, '').replace(LEVEL_KV, '');
  if (rest.length) {
    const frame = FRAME.exec(rest.join('\n'));
    const loc = frame ? (frame[1] ?? `${frame[2]}:${frame[3]}`) : null;
    if (loc && !head.includes(loc)) head = `${head} at ${loc}`;
  }
  return head.trim() || line.slice(0, 200);
}

const LOGFMT_FIELD = (key: string) => new RegExp(`(?:^|\\s)${key}=(?:"((?:[^"\\\\]|\\\\.)*)"|(\\S+))`);
/** Compiled once: building four RegExps per line was a measurable share of the pass. */
const LOGFMT_KEYS = ['msg', 'message', 'error', 'err'].map((key) => [`${key}=`, LOGFMT_FIELD(key)] as const);

/**
 * logfmt lines (level=error msg="..." user=... took=...): the message is msg plus any err
 * field, as for JSON lines; the other fields are per-request context, not the failure's shape.
 */
export function logfmtMessage(line: string): string | null {
  const parts: string[] = [];
  for (const [spelled, re] of LOGFMT_KEYS) {
    // Every field is spelled key=, so a line without it cannot match.
    if (!line.includes(spelled)) continue;
    const m = re.exec(line);
    const v = m ? (m[1] ?? m[2])?.replace(/\\"/g, '"') : undefined;
    if (v && !parts.some((p) => p.includes(v))) parts.push(v);
  }
  return parts.length ? parts.join(': ') : null;
}

export const MAX_SIGNATURE_CHARS = 240;

/**
 * What lines are grouped by: the signature without its key=value pairs, since requests add
 * optional context fields (customer=, card=) that do not change what failed.
 */
export function groupingKey(signature: string): string {
  let k = groupingKeys.get(signature);
  if (k === undefined) {
    k = groupingKeyOf(signature);
    // Signatures are few (they are what lines are grouped into); the bound only guards odd inputs.
    if (groupingKeys.size >= 10_000) groupingKeys.clear();
    groupingKeys.set(signature, k);
  }
  return k;
}

const groupingKeys = new Map<string, string>();

function groupingKeyOf(signature: string): string {
  return signature.replace(/\s?[\w.-]+=(?:"[^"]*"|'[^']*'|\S+)/g, '').replace(/\s+/g, ' ').trim();
}

export function signatureOf(line: string, json: Record<string, unknown> | null): string {
  const s = maskMessage(messageOf(line, json));
  return s.length > MAX_SIGNATURE_CHARS ? `${s.slice(0, MAX_SIGNATURE_CHARS - 1)}…` : s;
}
