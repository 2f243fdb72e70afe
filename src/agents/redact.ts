
/**
 * PII and secret redaction for everything a specialist prints. Runs inside the sandbox, so it
 * uses node built-ins only. Patterns err towards redacting, except where a false positive would
 * destroy evidence the investigation needs (versions, timestamps, durations, file:line).
 */
export type RedactionKind =
  | 'email'
  | 'card'
  | 'card_token'
  | 'session'
  | 'bearer'
  | 'jwt'
  | 'api_key'
  | 'credential'
  | 'ip';

export type RedactionCounts = Partial<Record<RedactionKind, number>>;

const tag = (kind: RedactionKind) => `[REDACTED:${kind}]`;

type Rule = {
  kind: RedactionKind;
  re: RegExp;
  /** Returns the replacement, or null to keep the match (e.g. a failed Luhn check). */
  replace: (m: string, ...groups: string[]) => string | null;
};

/** Keeps a `key=` / `key: ` prefix (so the reader still knows what was there) and hides the value. */
const keepPrefix = (kind: RedactionKind) => (_m: string, prefix: string) => `${prefix}${tag(kind)}`;

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
  const digits = m.replace(/[ -]/g, '');
  if (digits.length < 13 || digits.length > 19) return null;
  if (!CARD_PREFIX.test(digits) || !luhnOk(digits)) return null;
  if (/^(\d)\1+$/.test(digits)) return null;
  return tag('card');
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
  const bare = m.replace(/%[\w.]+$/, '');
  // Times (14:28:00) and MACs are not valid IPv6; requiring "::" or eight groups rules out the rest.
  if (!isIPv6(bare)) return null;
  if (!bare.includes('::') && bare.split(':').length < 8) return null;
  if (!/[0-9a-f]/i.test(bare.replace(/:/g, ''))) return null;
  return tag('ip');
}

const RULES: Rule[] = [
  // Secrets first: they can contain dots and digits that later rules would half-match.
  { kind: 'credential', re: /(\b[a-z][a-z0-9+.-]*:\/\/)[^\s/:@]+:[^\s/@]+@/gi, replace: (_m, p) => `${p}${tag('credential')}@` },
  { kind: 'jwt', re: /\beyJ[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]*/g, replace: () => tag('jwt') },
  // A digit or base64 padding is required so prose ("Basic authentication failed") survives.
  {
    kind: 'bearer',
    re: /(\b(?:Bearer|Basic)\s+)(?!\[REDACTED)(?=[A-Za-z0-9._~+/=-]*[0-9=])[A-Za-z0-9._~+/=-]{8,}/gi,
    replace: keepPrefix('bearer'),
  },
  { kind: 'api_key', re: /\bsk-ant-[A-Za-z0-9_-]{8,}/g, replace: () => tag('api_key') },
  { kind: 'api_key', re: /\b(?:sk|rk|pk)[-_](?:live[-_]|test[-_]|proj[-_])?[A-Za-z0-9_-]{16,}/g, replace: () => tag('api_key') },
  { kind: 'api_key', re: /\b(?:AKIA|ASIA)[0-9A-Z]{16}\b/g, replace: () => tag('api_key') },
  { kind: 'api_key', re: /\b(?:ghp|gho|ghu|ghs|github_pat|glpat|xox[abprs])[-_][A-Za-z0-9_-]{10,}/g, replace: () => tag('api_key') },
  { kind: 'api_key', re: /\bAIza[0-9A-Za-z_-]{30,}/g, replace: () => tag('api_key') },
  {
    kind: 'api_key',
    re: /(\b(?:x-)?(?:api[_-]?key|apikey|access[_-]?key|secret[_-]?key|client[_-]?secret|access[_-]?token|auth[_-]?token|refresh[_-]?token|password|passwd|pwd|secret|token)["']?\s*[=:]\s*["']?)(?!\[REDACTED)[^\s"'&,;}]{4,}/gi,
    replace: keepPrefix('api_key'),
  },
  { kind: 'email', re: /\b[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}\b/g, replace: () => tag('email') },
  {
    kind: 'session',
    re: /(\b(?:JSESSIONID|PHPSESSID|ASP\.NET_SessionId|connect\.sid|session[_-]?id|session[_-]?token|sessionid|sid)["']?\s*[=:]\s*["']?)(?!\[REDACTED)[^\s"'&,;}]{4,}/gi,
    replace: keepPrefix('session'),
  },
  { kind: 'session', re: /\bsess(?:ion)?_[A-Za-z0-9_-]{6,}/g, replace: () => tag('session') },
  {
    kind: 'card_token',
    // Stripe-style object ids. A digit (or real length) is required so error codes such as
    // card_declined or pm_expired survive: they are evidence, not PII.
    re: /\b(?:tok|card|pm|src|cus|ba|seti|pi|btok|ctok)_(?=[A-Za-z0-9_]*\d|[A-Za-z0-9_]{16})[A-Za-z0-9_]{6,}\b/g,
    replace: () => tag('card_token'),
  },
  {
    kind: 'card_token',
    re: /(\b(?:card[_-]?token|payment[_-]?token|payment[_-]?method(?:[_-]?id)?|pan)["']?\s*[=:]\s*["']?)(?!\[REDACTED)[^\s"'&,;}]{4,}/gi,
    replace: keepPrefix('card_token'),
  },
  {
    kind: 'card',
    // Contiguous digits or the printed groupings (4-4-4-4[-3], Amex 4-6-5), never free-form runs.
    re: /(?<![\w.-])(?:\d{13,19}|\d{4}(?:[ -]\d{4}){2,3}(?:[ -]\d{1,3})?|\d{4}[ -]\d{6}[ -]\d{4,5})(?![\w-]|\.\d)/g,
    replace: redactCard,
  },
  {
    kind: 'ip',
    re: /(?<![\w.:])(?:[0-9A-Fa-f]{0,4}:){2,7}(?:[0-9A-Fa-f]{1,4}|(?:\d{1,3}\.){3}\d{1,3})?(?:%[\w.]+)?(?![\w:.])/g,
    replace: redactIpv6,
  },
  {
    kind: 'ip',
    // Not after "v" or a digit-dot (versions like v2.14.3.1) and not followed by more dotted parts.
    re: /(?<![\w.])(?<!\bv)(?:(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)\.){3}(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(?![\w]|\.\d)/g,
    replace: () => tag('ip'),
  },
];

export function redact(text: string): { text: string; counts: RedactionCounts } {
  const counts: RedactionCounts = {};
  let out = text;
  for (const rule of RULES) {
    out = out.replace(rule.re, (m: string, ...rest: unknown[]) => {
      const groups = rest.filter((g) => typeof g === 'string') as string[];
      const r = rule.replace(m, ...groups);
      if (r === null) return m;
      counts[rule.kind] = (counts[rule.kind] ?? 0) + 1;
      return r;
    });
  }
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
