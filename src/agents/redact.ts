/**
 * PII and secret redaction for everything a specialist prints. Runs inside the sandbox (and again
 * on the host at the sandbox exit), so it uses plain code only: workflow code may import it too.
 * Patterns err towards redacting, except where a false positive would destroy evidence the
 * investigation needs (versions, timestamps, durations, file:line, error codes).
 *
 * Linear by construction: every quantifier in a rule's regex is bounded ({m,n}, never + * or
 * {m,}), so a failed attempt at one position costs a constant, and a match's unbounded rest (a
 * long secret value) is consumed by a plain loop over its characters (`rest`), after which the
 * search resumes. test/redact.test.ts checks the regex sources and runs 1 MB adversarial inputs.
 */
export type RedactionKind =
  | 'email'
  | 'card'
  | 'card_token'
  | 'customer'
  | 'iban'
  | 'phone'
  | 'session'
  | 'bearer'
  | 'jwt'
  | 'api_key'
  | 'private_key'
  | 'credential'
  | 'ip';

export type RedactionCounts = Partial<Record<RedactionKind, number>>;

const tag = (kind: RedactionKind) => `[REDACTED:${kind}]`;

type Rule = {
  kind: RedactionKind;
  /** Global; every quantifier bounded (see the module comment). */
  re: RegExp;
  /** A cheap test the text must pass for the rule to be able to match at all. */
  gate?: (s: string) => boolean;
  /** Characters that continue the match's last part (a value longer than the regex's bound). */
  rest?: RegExp;
  /** The replacement for the whole match (rest included), or null to keep it (a failed checksum). */
  replace: (m: string, groups: string[]) => string | null;
};

/** `key=` / `key: ` / `"key": "` / `\"key\": \"` (JSON inside a string) between a key and its value. */
const SEP = `(?:\\\\?["'])?\\s{0,4}[=:]\\s{0,4}(?:\\\\?["'])?`;
/** What a key=value value is made of: up to a quote, space or the next field. */
const VALUE = `[^\\s"'\\\\&,;}<>]`;
const VALUE_CHAR = new RegExp(VALUE);
const NOT_TAGGED = '(?!\\[REDACTED)';

const has =
  (...any: string[]) =>
  (s: string) =>
    any.some((c) => s.includes(c));
const hasSep = has('=', ':');

/** Keeps the `key=` prefix (so the reader still knows what was there) and hides the value. */
const keepPrefix =
  (kind: RedactionKind, test?: (value: string) => boolean) =>
  (m: string, g: string[]): string | null => {
    const prefix = g[0] ?? '';
    const value = m.slice(prefix.length);
    if (test && !test(value)) return null;
    return `${prefix}${tag(kind)}`;
  };

/** A value that looks generated (a token, an id) rather than a word of prose ("session: closed"). */
function looksSecret(v: string): boolean {
  if (/\d/.test(v) || /[=%+/_.-]/.test(v)) return v.length >= 4;
  if (/[A-Z]/.test(v) && /[a-z]/.test(v)) return v.length >= 8;
  return v.length >= 20;
}

function luhnOk(digits: string): boolean {
  let sum = 0;
  for (let i = 0; i < digits.length; i++) {
    let d = digits.charCodeAt(digits.length - 1 - i) - 48;
    if (i % 2 === 1) {
      d *= 2;
      if (d > 9) d -= 9;
    }
    sum += d;
  }
  return sum % 10 === 0;
}

/**
 * Issuer prefixes of real card schemes. Epoch-millisecond and nanosecond timestamps start with 1,
 * so requiring a scheme prefix keeps Luhn's 1-in-10 false positives off timestamps.
 */
const CARD_PREFIX = /^(?:4|5[1-5]|2[2-7]|3[47]|3[0689]|35|6)/;

function redactCard(m: string): string | null {
  const digits = m.replace(/[ .-]/g, '');
  if (digits.length < 13 || digits.length > 19) return null;
  if (!CARD_PREFIX.test(digits) || !luhnOk(digits)) return null;
  if (/^(\d)\1{12,18}$/.test(digits)) return null;
  return tag('card');
}

/** ISO 13616 check: move the first four characters to the end, letters to numbers, mod 97 is 1. */
function ibanOk(iban: string): boolean {
  if (iban.length < 15 || iban.length > 34) return false;
  const moved = iban.slice(4) + iban.slice(0, 4);
  let rem = 0;
  for (const ch of moved) {
    const c = ch.charCodeAt(0);
    const v = c >= 65 ? c - 55 : c - 48;
    rem = v >= 10 ? (rem * 100 + v) % 97 : (rem * 10 + v) % 97;
  }
  return rem === 1;
}

/** The longest run of groups from the start that is a valid IBAN (a spaced IBAN may be followed by more digits). */
function redactIban(m: string): string | null {
  const groups = m.split(' ');
  for (let k = groups.length; k >= 1; k--) {
    const cand = groups.slice(0, k).join('').toUpperCase();
    if (ibanOk(cand)) return tag('iban') + (k < groups.length ? ` ${groups.slice(k).join(' ')}` : '');
  }
  return null;
}

/** E.164 allows 15 digits: a longer run is a number followed by another (or by a count), so take the groups that fit. */
function redactPhone(m: string): string | null {
  const groups = m.match(/^\+\d+|[ .-]?\(\d+\)\d*|[ .-]\d+/g) ?? [];
  let digits = 0;
  let k = 0;
  for (; k < groups.length; k++) {
    const n = groups[k]!.replace(/\D/g, '').length;
    // An area code in parentheses follows the country code ("+1 (415)"); later it opens another number.
    if (digits + n > 15 || (k > 1 && groups[k]!.includes('('))) break;
    digits += n;
  }
  if (digits < 8) return null;
  return tag('phone') + groups.slice(k).join('');
}

/** A US number: area and exchange codes start 2-9, so counts and sizes rarely qualify. */
function redactUsPhone(m: string): string | null {
  const d = m.replace(/\D/g, '');
  const local = d.length === 11 ? d.slice(1) : d;
  return local.length === 10 && /^[2-9]\d\d[2-9]/.test(local) ? tag('phone') : null;
}

/**
 * A structural IPv6 check in plain code (no node:net), so workflow code may import this module:
 * hex groups of 1-4, at most one "::", eight groups without it, an optional dotted IPv4 tail.
 */
function isIPv6(s: string): boolean {
  const v4 = /^(?:\d{1,3}\.){3}\d{1,3}$/;
  const parts = s.split('::');
  if (parts.length > 2) return false;
  const groups = parts.flatMap((p) => (p ? p.split(':') : []));
  const last = groups[groups.length - 1];
  const tail = last && v4.test(last) ? 2 : 0;
  const hex = tail ? groups.slice(0, -1) : groups;
  if (!hex.every((g) => /^[0-9a-f]{1,4}$/i.test(g))) return false;
  const count = hex.length + tail;
  return parts.length === 2 ? count <= 7 : count === 8;
}

function redactIpv6(m: string): string | null {
  const bare = m.replace(/%[\w.]{1,32}$/, '');
  // Times (14:28:00) and MACs are not valid IPv6; requiring "::" or eight groups rules out the rest.
  if (!isIPv6(bare)) return null;
  if (!bare.includes('::') && bare.split(':').length < 8) return null;
  if (!/[0-9a-f]/i.test(bare.replace(/:/g, ''))) return null;
  return tag('ip');
}

/** Every cookie in a Cookie / Set-Cookie header keeps its name and loses its value. */
function redactCookies(m: string, g: string[]): string {
  const prefix = g[0] ?? '';
  const body = m.slice(prefix.length).replace(/(^|;\s{0,4})([^=;\s]{1,128})=([^;]{1,4096})/g, (_x, sep: string, name: string, value: string) =>
    /^(?:path|domain|expires|max-age|samesite)$/i.test(name) || value.startsWith('[REDACTED') ? `${sep}${name}=${value}` : `${sep}${name}=${tag('session')}`,
  );
  return prefix + body;
}

/** Object-id prefixes that name a customer or an account rather than a payment instrument. */
const CUSTOMER_PREFIX = /^(?:cus|cust|usr|user|acct|mbr)_/i;

/**
 * Stripe-style object ids. A digit, a capital or real length is required so error codes such as
 * card_declined or pm_expired survive: they are evidence, not PII.
 */
function redactObjectId(m: string): string | null {
  const body = m.slice(m.indexOf('_') + 1);
  if (!(/\d/.test(body) || /[A-Z]/.test(body) || body.length >= 16)) return null;
  return tag(CUSTOMER_PREFIX.test(m) ? 'customer' : 'card_token');
}

const SECRET_KEYS =
  'api[_-]?key|apikey|access[_-]?key(?:[_-]?id)?|secret[_-]?access[_-]?key|secret[_-]?key|private[_-]?key|client[_-]?secret|' +
  'access[_-]?token|auth[_-]?token|refresh[_-]?token|id[_-]?token|security[_-]?token|session[_-]?token|token|password|passwd|pwd|' +
  'secret|credentials?|signature|x-amz-security-token|x-amz-signature';
const SESSION_KEYS = 'jsessionid|phpsessid|asp\\.net_sessionid|connect\\.sid|session(?:[_-]?(?:id|key))?|sess(?:id)?|sid';
const CUSTOMER_KEYS =
  '(?:customer|cust|user|account|acct|member|buyer|payer|shopper|client)[_-]?(?:id|no|num|number|ref|uuid|email|name)|customerid|userid|' +
  'customer|username|first[_-]?name|last[_-]?name|full[_-]?name|e-?mail|iban|ssn|dob|date[_-]?of[_-]?birth';
const PHONE_KEYS = 'phone(?:[_-]?(?:number|no))?|tel|telephone|mobile|msisdn|fax';
const CARD_TOKEN_KEYS = 'card[_-]?token|payment[_-]?token|payment[_-]?method(?:[_-]?id)?';
const CARD_NUMBER_KEYS = 'card[_-]?(?:number|num|no)|cc[_-]?(?:number|num)|pan|cvv2?|cvc2?';

/** `abc` -> `[aA][bB][cC]`: case-insensitive letters, so the key's left boundary can still see case. */
const ci = (src: string) => src.replace(/[a-z]/g, (c) => `[${c}${c.toUpperCase()}]`);
/**
 * A key starts after a non-alphanumeric (aws_secret_access_key, db_password) or at a camelCase
 * hump (userPassword), never inside a word (hotel=, span=, adobe=).
 */
const KEY_START = '(?:(?<![A-Za-z0-9])|(?<=[a-z0-9])(?=[A-Z]))';
const kv = (keys: string) => new RegExp(`(${KEY_START}(?:${ci(keys)})${SEP})${NOT_TAGGED}${VALUE}{2,256}`, 'g');

const EMAIL_AT = '(?:@|%40|%2540|\\\\u0040|&#0{0,3}64;|&#x0{0,2}40;|\\s{0,2}[[(]at[\\])]\\s{0,2})';

const RULES: Rule[] = [
  // Secrets first: they can contain dots and digits that later rules would half-match.
  {
    kind: 'private_key',
    // The body cannot fail once the header matched (the END line is optional), so no attempt rescans it.
    re: /-----BEGIN [A-Z ]{0,40}PRIVATE KEY-----[A-Za-z0-9+/=\s:,]{0,16384}(?:-----END [A-Z ]{0,40}PRIVATE KEY-----)?/g,
    gate: has('PRIVATE KEY'),
    rest: /[A-Za-z0-9+/=\s:,]/,
    replace: () => tag('private_key'),
  },
  {
    kind: 'credential',
    re: /(\b[a-z][a-z0-9+.-]{0,31}:\/\/)[^\s/:@]{1,256}:[^\s/@]{1,256}@/gi,
    gate: has('://'),
    replace: (_m, g) => `${g[0]}${tag('credential')}@`,
  },
  {
    kind: 'jwt',
    re: /\beyJ[A-Za-z0-9_-]{5,4096}\.[A-Za-z0-9_-]{5,4096}\.[A-Za-z0-9_-]{0,4096}/g,
    gate: has('eyJ'),
    rest: /[A-Za-z0-9_-]/,
    replace: () => tag('jwt'),
  },
  {
    // Whatever the scheme (Basic, Bearer, Digest, a bare token), an Authorization header's value goes.
    kind: 'bearer',
    re: new RegExp(
      `(\\b(?:proxy-)?authorization${SEP}(?:[A-Za-z][\\w-]{0,31}\\s{1,4}(?=[^\\s"'\\\\]))?)${NOT_TAGGED}(?![A-Za-z][\\w-]{0,31}\\s{1,4}\\[REDACTED)[^\\s"'\\\\,;]{1,4096}`,
      'gi',
    ),
    gate: (s) => /authorization/i.test(s),
    rest: /[^\s"'\\,;]/,
    replace: (m, g) => `${g[0]}${tag('bearer')}`,
  },
  {
    kind: 'session',
    re: new RegExp(`(\\b(?:set-)?cookie${SEP})${NOT_TAGGED}[^\\r\\n"\\\\]{1,8192}`, 'gi'),
    gate: (s) => /cookie/i.test(s),
    replace: redactCookies,
  },
  {
    // Outside a header: a digit, padding, mixed case or length tells a token from prose ("Bearer token missing").
    kind: 'bearer',
    re: /(\b(?:Bearer|Basic)\s{1,4})(?!\[REDACTED)[A-Za-z0-9._~+/=-]{8,4096}/gi,
    gate: (s) => /bearer|basic/i.test(s),
    rest: /[A-Za-z0-9._~+/=-]/,
    replace: keepPrefix('bearer', looksSecret),
  },
  { kind: 'api_key', re: /\bsk-ant-[A-Za-z0-9_-]{8,1024}/g, gate: has('sk-ant-'), rest: /[A-Za-z0-9_-]/, replace: () => tag('api_key') },
  {
    kind: 'api_key',
    re: /\b(?:sk|rk|pk|whsec)[-_](?:live[-_]|test[-_]|proj[-_])?[A-Za-z0-9_-]{16,1024}/g,
    rest: /[A-Za-z0-9_-]/,
    replace: () => tag('api_key'),
  },
  { kind: 'api_key', re: /\b(?:AKIA|ASIA)[0-9A-Z]{16}\b/g, gate: has('AKIA', 'ASIA'), replace: () => tag('api_key') },
  {
    kind: 'api_key',
    re: /\b(?:ghp|gho|ghu|ghs|github_pat|glpat|xox[abprs])[-_][A-Za-z0-9_-]{10,1024}/g,
    rest: /[A-Za-z0-9_-]/,
    replace: () => tag('api_key'),
  },
  { kind: 'api_key', re: /\bAIza[0-9A-Za-z_-]{30,1024}/g, gate: has('AIza'), rest: /[0-9A-Za-z_-]/, replace: () => tag('api_key') },
  // Keys are matched where they end (aws_secret_access_key, db_password), not only at a word start.
  { kind: 'card_token', re: kv(CARD_TOKEN_KEYS), gate: hasSep, rest: VALUE_CHAR, replace: keepPrefix('card_token', looksSecret) },
  { kind: 'api_key', re: kv(SECRET_KEYS), gate: hasSep, rest: VALUE_CHAR, replace: keepPrefix('api_key') },
  { kind: 'session', re: kv(SESSION_KEYS), gate: hasSep, rest: VALUE_CHAR, replace: keepPrefix('session', looksSecret) },
  {
    kind: 'email',
    re: new RegExp(
      `(?<![\\p{L}\\p{N}._%+-])[\\p{L}\\p{N}._%+-]{1,64}${EMAIL_AT}[\\p{L}\\p{N}-]{1,63}(?:\\.[\\p{L}\\p{N}-]{1,63}){0,8}\\.(?:[\\p{L}\\p{M}]{2,24}|xn--[a-z0-9-]{1,59})(?![\\p{L}\\p{N}-])`,
      'giu',
    ),
    gate: (s) => s.includes('@') || s.includes('%') || s.includes('&#') || /\\u0040|[[(]at[\])]/i.test(s),
    replace: () => tag('email'),
  },
  { kind: 'session', re: /\bsess(?:ion)?_[A-Za-z0-9_-]{6,1024}/g, gate: has('sess'), rest: /[A-Za-z0-9_-]/, replace: () => tag('session') },
  {
    kind: 'card_token',
    re: /\b(?:tok|card|pm|src|ba|seti|pi|btok|ctok|ch|py|re|in|sub|si|txn|cus|cust|usr|user|acct|mbr)_[A-Za-z0-9_]{6,128}(?![A-Za-z0-9_])/g,
    gate: has('_'),
    replace: redactObjectId,
  },
  {
    kind: 'iban',
    re: /(?<![A-Za-z0-9])[A-Z]{2}\d{2}(?: ?[A-Z0-9]{4}){2,7}(?: ?[A-Z0-9]{1,4})?(?![A-Za-z0-9])/g,
    replace: redactIban,
  },
  {
    kind: 'card',
    // Contiguous digits or the printed groupings (4-4-4-4[-3], Amex 4-6-5) with one separator, never free-form runs.
    re: /(?<![\w.,+-])(?:\d{13,19}|\d{4}([ .-])\d{4}\1\d{4}\1\d{4}(?:\1\d{1,3})?|\d{4}([ .-])\d{6}\2\d{4,5})(?![\w-]|[.,]\d)/g,
    replace: redactCard,
  },
  {
    // E.164 and its printed forms (+44 20 7946 0958, +1 (415) 555-2671): each group opens with a separator or "(".
    kind: 'phone',
    re: /(?<![\w+./-])\+[1-9]\d{0,14}(?:[ .-]?\(\d{1,5}\)\d{0,5}|[ .-]\d{1,5}){0,6}(?![\w/-]|[.,]\d)/g,
    gate: has('+'),
    replace: redactPhone,
  },
  {
    kind: 'phone',
    // Dashes or dots used consistently, or a parenthesised area code: "200 300 4000" is a list of numbers.
    re: /(?<![\w+./:-])(?:1[ .-])?(?:\(\d{3}\)[ .-]?\d{3}[ .-]|\d{3}([.-])\d{3}\1)\d{4}(?![\w/:-]|[.,]\d)/g,
    replace: redactUsPhone,
  },
  // Keyed values last: a structured number above (a spaced card, a printed phone) is taken whole first.
  { kind: 'card', re: kv(CARD_NUMBER_KEYS), gate: hasSep, rest: VALUE_CHAR, replace: keepPrefix('card', (v) => /\d{3}/.test(v)) },
  { kind: 'phone', re: new RegExp(`(${KEY_START}(?:${ci(PHONE_KEYS)})${SEP})${NOT_TAGGED}[+(]{0,2}\\d[\\d ()./-]{4,24}`, 'g'), gate: hasSep, replace: keepPrefix('phone', (v) => v.replace(/\D/g, '').length >= 6) },
  { kind: 'phone', re: kv(PHONE_KEYS), gate: hasSep, rest: /[^\s"'\\&,;}<>]/, replace: keepPrefix('phone', (v) => v.replace(/%2B|%20|\D/gi, '').length >= 6) },
  { kind: 'customer', re: kv(CUSTOMER_KEYS), gate: hasSep, rest: VALUE_CHAR, replace: keepPrefix('customer', (v) => v.length >= 2) },
  {
    kind: 'ip',
    // A sentence may end right after the address: a dot followed by no more address is not part of it.
    re: /(?<![\w.:])(?:[0-9A-Fa-f]{0,4}:){2,7}(?:[0-9A-Fa-f]{1,4}|(?:\d{1,3}\.){3}\d{1,3})?(?:%[\w.]{1,32})?(?![\w:]|\.\w)/g,
    gate: has(':'),
    replace: redactIpv6,
  },
  {
    kind: 'ip',
    // Not after "v" or a digit-dot (versions like v2.14.3.1) and not followed by more dotted parts.
    re: /(?<![\w.])(?<!\bv)(?:(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)\.){3}(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(?![\w]|\.\d)/g,
    gate: has('.'),
    replace: () => tag('ip'),
  },
];

/** The rules' regexes, for the test that checks every quantifier is bounded. */
export const RULE_SOURCES: readonly string[] = RULES.map((r) => r.re.source);

/** One rule over the text: a hand-written replace loop so a match can run on over `rest` in linear time. */
function applyRule(rule: Rule, s: string, counts: RedactionCounts): string {
  if (rule.gate && !rule.gate(s)) return s;
  const re = rule.re;
  re.lastIndex = 0;
  let out = '';
  let last = 0;
  let m: RegExpExecArray | null;
  while ((m = re.exec(s)) !== null) {
    if (m[0].length === 0) {
      re.lastIndex++;
      continue;
    }
    let end = m.index + m[0].length;
    if (rule.rest) while (end < s.length && rule.rest.test(s[end]!)) end++;
    const groups = m.slice(1).map((g) => g ?? '');
    const r = rule.replace(s.slice(m.index, end), groups);
    if (r === null) continue;
    out += s.slice(last, m.index) + r;
    last = end;
    // A rule may tag more finely than its kind (a customer id among payment object ids).
    const kind = (/\[REDACTED:(\w+)\]/.exec(r)?.[1] as RedactionKind | undefined) ?? rule.kind;
    counts[kind] = (counts[kind] ?? 0) + 1;
    re.lastIndex = end;
  }
  return last === 0 ? s : out + s.slice(last);
}

function applyRules(text: string, counts: RedactionCounts): string {
  let out = text;
  for (const rule of RULES) out = applyRule(rule, out, counts);
  return out;
}

const PERCENT = /%[0-9A-Fa-f]{2}/g;
/** Where a URL-encoded token ends: the query and field separators stay encoded-token boundaries. */
const TOKEN_END = /[\s"'&?=,;<>]/;

function percentDecode(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    // A stray "%" or a broken UTF-8 sequence: decode the ASCII escapes only.
    return s.replace(/%([0-7][0-9A-Fa-f])/g, (_m, h: string) => String.fromCharCode(parseInt(h, 16)));
  }
}

/**
 * URL-encoded values (a query's "NL91%20ABNA...", "2001%3Adb8%3A%3A1", "%2B14155552671"): each
 * token holding an escape is decoded and redacted; if that hid something, the redacted decoded
 * form replaces the token. Tokens are found by a scan that never revisits a character.
 */
function redactEncoded(text: string, counts: RedactionCounts): string {
  if (!text.includes('%')) return text;
  let out = '';
  let last = 0;
  PERCENT.lastIndex = 0;
  let m: RegExpExecArray | null;
  while ((m = PERCENT.exec(text)) !== null) {
    let start = m.index;
    while (start > last && !TOKEN_END.test(text[start - 1]!)) start--;
    let end = m.index + 3;
    while (end < text.length && !TOKEN_END.test(text[end]!)) end++;
    PERCENT.lastIndex = end;
    const token = text.slice(start, end);
    const found: RedactionCounts = {};
    const redacted = applyRules(percentDecode(token), found);
    if (!Object.keys(found).length) continue;
    mergeCounts(counts, found);
    out += text.slice(last, start) + redacted;
    last = end;
  }
  return last === 0 ? text : out + text.slice(last);
}

export function redact(text: string): { text: string; counts: RedactionCounts } {
  const counts: RedactionCounts = {};
  const out = applyRules(redactEncoded(text, counts), counts);
  return { text: out, counts };
}

export function redactText(text: string): string {
  return redact(text).text;
}

export function mergeCounts(into: RedactionCounts, from: RedactionCounts): RedactionCounts {
  for (const [k, v] of Object.entries(from) as [RedactionKind, number][]) into[k] = (into[k] ?? 0) + v;
  return into;
}

/** Redacts every string inside a JSON value (keys included: they can carry ids too). */
export function redactDeep<T>(value: T, counts: RedactionCounts = {}): T {
  const walk = (v: unknown): unknown => {
    if (typeof v === 'string') {
      const r = redact(v);
      mergeCounts(counts, r.counts);
      return r.text;
    }
    if (Array.isArray(v)) return v.map(walk);
    if (v && typeof v === 'object') {
      const o: Record<string, unknown> = {};
      for (const [k, x] of Object.entries(v)) o[walk(k) as string] = walk(x);
      return o;
    }
    return v;
  };
  return walk(value) as T;
}
