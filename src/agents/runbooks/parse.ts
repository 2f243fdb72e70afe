import { parse as parseYaml } from 'yaml';
import { RunbookFrontMatter } from '../../schemas/scenario';

export interface RunbookDoc {
  id: string;
  title: string;
  date?: string;
  services: string[];
  tags: string[];
  /** Past incident (postmortem) or a runbook (procedure). Only incidents are "matched incidents". */
  kind: 'incident' | 'runbook';
  rootCause?: string;
  fix?: string;
  runbook?: string;
  timeToResolve?: string;
  /** Section texts by normalized heading, for the index. */
  sections: Record<string, string>;
  body: string;
  file: string;
}

const FRONT = /^\uFEFF?---\r?\n([\s\S]*?)\r?\n---\r?\n?/;

function splitSections(body: string): Record<string, string> {
  const out: Record<string, string> = {};
  let current = '_intro';
  for (const line of body.split(/\r?\n/)) {
    const h = /^#{1,6}\s+(.+?)\s*#*\s*$/.exec(line);
    if (h) {
      current = h[1]!.toLowerCase().replace(/[^a-z0-9 ]+/g, ' ').replace(/\s+/g, ' ').trim();
      out[current] ??= '';
      continue;
    }
    out[current] = `${out[current] ?? ''}${line}\n`;
  }
  for (const k of Object.keys(out)) out[k] = out[k]!.trim();
  return out;
}

const clean = (s: string) =>
  s
    .replace(/^\s*[-*+]\s+/gm, '')
    .replace(/[*_`]{1,2}([^*_`]+)[*_`]{1,2}/g, '$1')
    .replace(/\s+/g, ' ')
    .trim();

function section(sections: Record<string, string>, re: RegExp): string | undefined {
  for (const [k, v] of Object.entries(sections)) if (re.test(k) && v.trim()) return clean(v).slice(0, 600);
  return undefined;
}

/** "Root cause: ..." on one line, markdown emphasis allowed around the label. */
function labelled(body: string, labels: RegExp): string | undefined {
  const re = new RegExp(`^[\\s>*_-]*(?:\\*\\*|__)?(?:${labels.source})(?:\\*\\*|__)?\\s*[:\\-–]\\s*(?:\\*\\*|__)?(.+)$`, 'im');
  const m = re.exec(body);
  return m ? clean(m[1]!).slice(0, 600) : undefined;
}

const DURATION = /(\d+(?:\.\d+)?)\s*(minutes?|mins?|m\b|hours?|hrs?|h\b|seconds?|secs?|days?)/i;

function normalizeDuration(s: string): string {
  const m = DURATION.exec(s);
  if (!m) return clean(s).slice(0, 60);
  const unit = m[2]!.toLowerCase();
  const n = m[1]!;
  const word = /^m/.test(unit) ? 'minute' : /^h/.test(unit) ? 'hour' : /^s/.test(unit) ? 'second' : 'day';
  return `${n} ${word}${n === '1' ? '' : 's'}`;
}

function timeToResolve(fm: Record<string, unknown>, body: string): string | undefined {
  for (const k of ['time_to_resolve', 'timeToResolve', 'ttr', 'resolved_in', 'resolution_time', 'duration', 'mttr']) {
    const v = fm[k];
    if (typeof v === 'number') return `${v} minutes`;
    if (typeof v === 'string' && v.trim()) return normalizeDuration(v);
  }
  const line = labelled(body, /time to resolv\w*|time to resolution|ttr|mttr|resolution time|duration/);
  if (line) return normalizeDuration(line);
  const prose = /\bresolved (?:in|after|within)\s+(\d+(?:\.\d+)?\s*(?:minutes?|mins?|hours?|hrs?|h|m)\b)/i.exec(body);
  if (prose) return normalizeDuration(prose[1]!);
  return undefined;
}

/**
 * Tolerant: the front matter fixes id/title/date/services/tags; the rest is found wherever the
 * author put it (a "## Root cause" section, a "Root cause:" line, "Resolved in 22 minutes").
 */
export function parseRunbook(text: string, file: string): RunbookDoc {
  const m = FRONT.exec(text);
  let fm: Record<string, unknown> = {};
  if (m) {
    try {
      const y = parseYaml(m[1]!);
      if (y && typeof y === 'object') fm = y as Record<string, unknown>;
    } catch {
      /* a broken header still leaves a searchable body */
    }
  }
  const body = m ? text.slice(m[0].length) : text;
  const sections = splitSections(body);
  const parsed = RunbookFrontMatter.safeParse(fm);
  const base = file.replace(/^.*[\\/]/, '').replace(/\.md$/i, '');
  const firstHeading = /^#\s+(.+)$/m.exec(body)?.[1]?.trim();
  const id = parsed.success ? parsed.data.id : typeof fm.id === 'string' ? fm.id : base;
  const title = parsed.success ? parsed.data.title : typeof fm.title === 'string' ? fm.title : (firstHeading ?? base);
  const date = parsed.success ? parsed.data.date : typeof fm.date === 'string' ? fm.date : undefined;
  const services = parsed.success ? parsed.data.services : [];
  const tags = parsed.success ? parsed.data.tags : [];

  const rbField = typeof fm.runbook === 'string' ? fm.runbook : undefined;
  const rbLine = labelled(body, /runbook(?: id)?|playbook/);
  const rbId = (rbField ?? rbLine ?? '').match(/\bRB-[A-Z0-9][A-Z0-9-]*\b/i)?.[0] ?? body.match(/\bRB-[A-Z0-9][A-Z0-9-]*\b/)?.[0];

  const kindField = String(fm.type ?? fm.kind ?? '').toLowerCase();
  const isRunbook =
    /runbook|playbook|procedure/.test(kindField) ||
    (!/incident|postmortem/.test(kindField) && (/^RB-/i.test(id) || tags.some((t) => /^(runbook|playbook)$/i.test(t))));

  return {
    id,
    title,
    date,
    services,
    tags,
    kind: isRunbook ? 'runbook' : 'incident',
    rootCause:
      (typeof fm.root_cause === 'string' ? fm.root_cause : undefined) ??
      section(sections, /^(root cause|cause|what happened and why|why)/) ??
      labelled(body, /root cause|cause/),
    fix:
      (typeof fm.fix === 'string' ? fm.fix : undefined) ??
      section(sections, /^(fix|resolution|remediation|mitigation|how (?:it was|we) (?:fixed|resolved)|resolved by)/) ??
      labelled(body, /fix|resolution|remediation|mitigation|resolved by/),
    runbook: isRunbook ? id : rbId,
    timeToResolve: timeToResolve(fm, body),
    sections,
    body,
    file,
  };
}
