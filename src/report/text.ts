/**
 * Text that came from data (logs, runbooks, a model's summary) on its way to a reader: control
 * characters made visible, identifiers checked, markdown neutralised. Pure code: the workflow,
 * the agent bundle and the CLI all import it.
 */

/**
 * C0 controls (ESC, BEL, CR...), DEL, C1 controls (a single-byte CSI/OSC in some terminals),
 * bidi overrides and isolates, zero-width characters and the Unicode line separators: each is
 * shown as a visible escape, so "ESC[8m" or an OSC 52 clipboard write is text, not an effect.
 */
const INVISIBLE = /[\u0000-\u0008\u000B-\u001F\u007F-\u009F\u00AD\u061C\u180E\u200B-\u200F\u202A-\u202E\u2028\u2029\u2060-\u2069\uFEFF\uFFF9-\uFFFB]/g;
const INVISIBLE_TEST = /[\u0000-\u0008\u000B-\u001F\u007F-\u009F\u00AD\u061C\u180E\u200B-\u200F\u202A-\u202E\u2028\u2029\u2060-\u2069\uFEFF\uFFF9-\uFFFB]/;

const escapeOf = (c: string) => {
  const n = c.charCodeAt(0);
  return n <= 0xff ? `\\x${n.toString(16).toUpperCase().padStart(2, '0')}` : `\\u${n.toString(16).toUpperCase().padStart(4, '0')}`;
};

/** Control characters made visible. Newlines stay when `multiline`, else they become spaces; tabs stay. */
export function visibleText(s: string, opts: { multiline?: boolean } = {}): string {
  let out = s.includes('\r\n') ? s.replace(/\r\n/g, '\n') : s;
  if (INVISIBLE_TEST.test(out)) out = out.replace(INVISIBLE, escapeOf);
  if (!opts.multiline && out.includes('\n')) out = out.replace(/\n/g, ' ');
  return out;
}

export function hasInvisible(s: string): boolean {
  return INVISIBLE_TEST.test(s);
}

/**
 * What a structured field naming a thing (a change, a service, a runbook) may hold: a version,
 * an image tag, a flag key. Anything else (a sentence, a command) is not an identifier.
 */
export const IDENTIFIER = /^[A-Za-z0-9][A-Za-z0-9._:/@+-]{0,127}$/;

export function isIdentifier(s: string | null | undefined): boolean {
  return typeof s === 'string' && IDENTIFIER.test(s) && !s.includes('://');
}

/** Bounds a string for display, marking the cut. */
export function clip(s: string, n: number): string {
  return s.length <= n ? s : `${s.slice(0, n - 1)}…`;
}

/**
 * Markdown-inert text for one line of report.md: every character that could start markup
 * (links, images, HTML, emphasis, code spans, tables, headings) is backslash-escaped, URL
 * schemes and "www." are defanged so no renderer autolinks them, and control characters are
 * visible. What renders is exactly the data's text, as text.
 */
export function mdText(s: string): string {
  return visibleText(s)
    .replace(/[\\`*[\]<>|~!&$]|(?<![A-Za-z0-9])_|_(?![A-Za-z0-9])/g, (c) => `\\${c}`)
    .replace(/\b([A-Za-z][A-Za-z0-9+.-]{0,31}):\/\//g, '$1\\[:\\]//')
    .replace(/\bwww\./gi, (m) => `${m.slice(0, 3)}\\[.\\]`);
}

/** mdText for text that starts a line: no heading, quote, list, rule or indented code can begin there either. */
export function mdLine(s: string): string {
  return mdText(s)
    .replace(/^\s+/, '')
    .replace(/^(?=[#>+=-])/, '\\')
    .replace(/^(\d{1,9})([.)])/, '$1\\$2');
}
