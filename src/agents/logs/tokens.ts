/**
 * Message tokens for template mining: each whitespace token is kept, or replaced by the
 * wildcard when its shape says it is a value (numbers, hex, ids joined by _ - . :, UUIDs, IPs
 * with ports, paths, URLs, emails, durations, sizes), or reduced to `key=<*>`. What identifies a
 * template stays: source locations (PaymentProcessor.java:142), exception class names, error
 * codes (ORA-00942, E11000), HTTP status after HTTP/status/code, and words of quoted messages.
 * Every check is a bounded scan of one token: linear in the line's length.
 */
export const WILDCARD = '<*>';

const MAX_TOKENS = 120;
const MAX_TOKEN_CHARS = 256;

const isDigitCode = (c: number) => c >= 48 && c <= 57;
function hasDigit(t: string): boolean {
  for (let k = 0; k < t.length; k++) if (isDigitCode(t.charCodeAt(k))) return true;
  return false;
}

/** Punctuation that wraps a value: kept around the wildcard so "(x)" and "x," keep their shape. */
const OPEN = '([{"\'<`';
const CLOSE = ')]}"\'>`,;:.!?';

const SOURCE_LOCATION = /^(?:[\w.$-]*\/)*[\w$-]+\.(?:java|kt|scala|groovy|py|go|rb|js|mjs|cjs|ts|tsx|cs|cpp|cc|c|h|hpp|rs|php|swift|ex|exs|erl|dart|lua):\d+(?::\d+)?$/;
const ERROR_CODE = /^(?:[A-Z]{1,5}-?\d{3,5}|[A-Z]{2,8}_[A-Z0-9_]{2,40})$/;
/** letters, one digit run of length 1, letters: log4j, e2e, k8s (names, not values). */
const NAME_WITH_DIGIT = /^[A-Za-z]{1,12}\d[A-Za-z]{1,12}$/;
/** Exception classes keep their name even with digits in it (psycopg2.OperationalError, Http2Exception). */
const CLASS_NAME = /^[\w.$]{1,200}(?:Exception|Error|Warning|Fault|Failure)$/;
/** A named member with a small ordinal: HikariPool-1, es-data-2 (constant in most templates; Drain merges them if not). */
const NAMED_ORDINAL = /^[A-Za-z][A-Za-z]*(?:-[A-Za-z]+)*-\d{1,2}$/;
const KEY = /^[A-Za-z_][\w.-]{0,40}$/;

function isPathOrUrl(core: string): boolean {
  if (core.includes('://')) return true;
  if (core.charCodeAt(0) === 47 /* / */ && core.indexOf('/', 1) > 0) return true;
  // Windows paths: C:\Windows\..., \\server\share
  if (core.length > 3 && core[1] === ':' && core[2] === '\\') return true;
  if (core.startsWith('\\\\')) return true;
  return false;
}

function isEmail(core: string): boolean {
  const at = core.indexOf('@');
  return at > 0 && core.indexOf('.', at) > at + 1;
}

/** Hex strings of 16+ characters without digits are rare, but all-hex tokens with a-f only and length >= 32 are hashes. */
function isLongHex(core: string): boolean {
  if (core.length < 32) return false;
  for (let k = 0; k < core.length; k++) {
    const c = core.charCodeAt(k) | 32;
    if (!(isDigitCode(c) || (c >= 97 && c <= 102))) return false;
  }
  return true;
}

/** One token, masked or kept. `prev` is the previous raw token (for "HTTP 503"). */
export function maskToken(tok: string, prev: string | undefined): string {
  if (tok.length > MAX_TOKEN_CHARS) return WILDCARD;
  let a = 0;
  let b = tok.length;
  while (a < b && OPEN.includes(tok[a]!)) a++;
  while (b > a && CLOSE.includes(tok[b - 1]!)) b--;
  const core = tok.slice(a, b);
  if (core === '') return tok;
  const wrap = (inner: string) => tok.slice(0, a) + inner + tok.slice(b);
  const eq = core.indexOf('=');
  if (eq > 0 && KEY.test(core.slice(0, eq))) {
    // The key stays; the value is masked when it looks like a value, else mining decides (node=es-data-2
    // stays while every line says it, and becomes node=<*> when it varies).
    const value = core.slice(eq + 1);
    if (value === '') return tok;
    const masked = maskToken(value, undefined);
    return wrap(`${core.slice(0, eq + 1)}${masked === value ? value : WILDCARD}`);
  }
  const digit = hasDigit(core);
  if (digit && SOURCE_LOCATION.test(core)) return tok;
  if (isPathOrUrl(core) || isEmail(core)) return wrap(WILDCARD);
  if (!digit) return isLongHex(core) ? wrap(WILDCARD) : tok;
  if (ERROR_CODE.test(core) || NAME_WITH_DIGIT.test(core) || CLASS_NAME.test(core) || NAMED_ORDINAL.test(core)) return tok;
  if (prev && /^(?:HTTP(?:\/[\d.]+)?|status|code|statuscode:?|status:)$/i.test(prev) && /^[1-5]\d\d$/.test(core)) return tok;
  return wrap(WILDCARD);
}

/** A message as mining tokens (at most MAX_TOKENS; the rest becomes one wildcard). */
export function mineTokens(msg: string): string[] {
  const out: string[] = [];
  let prev: string | undefined;
  let i = 0;
  const n = msg.length;
  while (i < n) {
    while (i < n && msg.charCodeAt(i) <= 32) i++;
    if (i >= n) break;
    let j = i;
    while (j < n && msg.charCodeAt(j) > 32) j++;
    // Bracket chains ("[JxNb][es-data-2][/usr/share]") are one field per bracket.
    let a = i;
    while (a < j && out.length < MAX_TOKENS - 1) {
      const cut = msg.indexOf('][', a);
      const b = cut >= 0 && cut < j ? cut + 1 : j;
      const raw = msg.slice(a, b);
      out.push(maskToken(raw, prev));
      prev = raw;
      a = b;
    }
    if (out.length >= MAX_TOKENS - 1 && a < j) {
      out.push(WILDCARD);
      break;
    }
    i = j;
  }
  return out;
}
