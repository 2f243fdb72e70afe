import { parse as parseYaml } from 'yaml';

/**
 * Runbook front matter as people write it: `tags: [db, 504]`, `date: 2026-03-15` (a YAML date),
 * `id: 2847` (a number), `services: checkout-service` (one string), `Tags: "db, pool"`, keys in any
 * case, CRLF line endings, a UTF-8 BOM, blank lines before the fence, `...` as the closing fence,
 * TOML-style `+++` fences. Everything is coerced to strings; nothing here throws.
 */

export interface FrontMatter {
  fields: Record<string, unknown>;
  body: string;
  /** Why the header was not used, when there was one. */
  problem?: string;
}

// A YAML header (--- ... --- or ...) or TOML (+++ ... +++), after an optional BOM and blank lines.
const YAML_FRONT = /^\uFEFF?(?:[ \t]*\r?\n)*---[ \t]*\r?\n([\s\S]*?)\r?\n(?:---|\.\.\.)[ \t]*(?:\r?\n|$)/;
const TOML_FRONT = /^\uFEFF?(?:[ \t]*\r?\n)*\+\+\+[ \t]*\r?\n([\s\S]*?)\r?\n\+\+\+[ \t]*(?:\r?\n|$)/;

/** `key = "value"` / `key = [a, "b"]` lines: enough TOML for a header of scalars and lists. */
function tomlLite(text: string): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const line of text.split(/\r?\n/)) {
    const m = /^\s*([A-Za-z0-9_-]+)\s*=\s*(.+?)\s*$/.exec(line);
    if (!m) continue;
    const v = m[2]!;
    const unq = (s: string) => s.trim().replace(/^(["'])(.*)\1$/, '$2');
    out[m[1]!] = v.startsWith('[') ? v.replace(/^\[|\]$/g, '').split(',').map(unq).filter(Boolean) : unq(v);
  }
  return out;
}

export function splitFrontMatter(text: string): FrontMatter {
  const yaml = YAML_FRONT.exec(text);
  if (yaml) {
    const body = text.slice(yaml[0].length);
    try {
      const y = parseYaml(yaml[1]!, { uniqueKeys: false });
      if (y && typeof y === 'object' && !Array.isArray(y)) return { fields: y as Record<string, unknown>, body };
      return { fields: {}, body, problem: 'front matter is not a mapping of keys' };
    } catch (e) {
      return { fields: {}, body, problem: `front matter is not valid YAML (${(e as Error).message.split('\n')[0]})` };
    }
  }
  const toml = TOML_FRONT.exec(text);
  if (toml) return { fields: tomlLite(toml[1]!), body: text.slice(toml[0].length) };
  return { fields: {}, body: text.replace(/^\uFEFF/, '') };
}

/** Case- and separator-insensitive key lookup: `Time_To_Resolve`, `time-to-resolve`, `timeToResolve`. */
export function pick(fields: Record<string, unknown>, ...names: string[]): unknown {
  const norm = (k: string) => k.toLowerCase().replace(/[^a-z0-9]/g, '');
  const want = new Set(names.map(norm));
  for (const [k, v] of Object.entries(fields)) if (want.has(norm(k)) && v !== null && v !== undefined) return v;
  return undefined;
}

/** A scalar as a trimmed string; a YAML date as YYYY-MM-DD (or full ISO when it has a time). */
export function scalar(v: unknown): string | undefined {
  if (v instanceof Date) {
    if (Number.isNaN(v.getTime())) return undefined;
    const iso = v.toISOString();
    return iso.endsWith('T00:00:00.000Z') ? iso.slice(0, 10) : iso;
  }
  if (typeof v === 'string') return v.trim() || undefined;
  if (typeof v === 'number' || typeof v === 'bigint' || typeof v === 'boolean') return String(v);
  return undefined;
}

/** A list of strings from a list, a comma-separated string, or one scalar; objects are skipped. */
export function stringList(v: unknown): string[] {
  const items = Array.isArray(v) ? v : typeof v === 'string' ? v.split(/[,;]/) : v === undefined ? [] : [v];
  const out: string[] = [];
  for (const i of items) {
    const s = scalar(i);
    if (s && !out.includes(s)) out.push(s.replace(/^#/, ''));
  }
  return out;
}
