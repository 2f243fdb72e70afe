import { pick, scalar, splitFrontMatter, stringList } from './front-matter';

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
  const v = pick(fm, 'time_to_resolve', 'ttr', 'resolved_in', 'resolution_time', 'duration', 'mttr');
  if (typeof v === 'number') return `${v} minutes`;
  if (typeof v === 'string' && v.trim()) return normalizeDuration(v);
  const line = labelled(body, /time to resolv\w*|time to resolution|ttr|mttr|resolution time|duration/);
  if (line) return normalizeDuration(line);
  const prose = /\bresolved (?:in|after|within)\s+(\d+(?:\.\d+)?\s*(?:minutes?|mins?|hours?|hrs?|h|m)\b)/i.exec(body);
  if (prose) return normalizeDuration(prose[1]!);
  return undefined;
}

/** A date as written, normalized to ISO when it parses (2026-03-15, 15 March 2026, 2026/03/15). */
function dateOf(v: unknown): string | undefined {
  const s = scalar(v);
  if (!s) return undefined;
  if (/^\d{4}-\d{2}-\d{2}/.test(s)) return s;
  const t = Date.parse(s.replace(/^(\d{4})\/(\d{2})\/(\d{2})/, '$1-$2-$3'));
  return Number.isNaN(t) ? s : new Date(t).toISOString().slice(0, 10);
}

/**
 * Tolerant: the front matter (when there is one, in whatever shape, see front-matter.ts) gives
 * id/title/date/services/tags, else the file name and first heading do; the rest is found
 * wherever the author put it (a "## Root cause" section, a "Root cause:" line, "Resolved in 22
 * minutes"). Never throws on content; `warnings` gets what was ignored.
 */
export function parseRunbook(text: string, file: string, warnings: string[] = []): RunbookDoc {
  const { fields: fm, body, problem } = splitFrontMatter(text);
  if (problem) warnings.push(`${file}: ${problem}; id and title taken from the file`);
  const sections = splitSections(body);
  const base = file.replace(/^.*[\\/]/, '').replace(/\.(md|markdown)$/i, '');
  const firstHeading = /^#{1,2}\s+(.+?)\s*#*\s*$/m.exec(body)?.[1]?.trim();
  // Without an id field, an incident key in the file name or heading ("INC-2847: ...") is the id.
  const keyed = (s?: string) => s?.match(/\b[A-Z][A-Z0-9]*-\d+[A-Z0-9]*\b/)?.[0];
  const id = scalar(pick(fm, 'id', 'incident_id', 'runbook_id')) ?? keyed(base) ?? keyed(firstHeading) ?? base;
  const title = scalar(pick(fm, 'title', 'name')) ?? firstHeading ?? base;
  const date = dateOf(pick(fm, 'date', 'incident_date', 'occurred', 'created', 'started'));
  const services = stringList(pick(fm, 'services', 'service', 'components', 'systems'));
  const tags = stringList(pick(fm, 'tags', 'tag', 'labels', 'keywords'));

  const rbField = scalar(pick(fm, 'runbook', 'playbook'));
  const rbLine = labelled(body, /runbook(?: id)?|playbook/);
  const rbId = (rbField ?? rbLine ?? '').match(/\bRB-[A-Z0-9][A-Z0-9-]*\b/i)?.[0] ?? body.match(/\bRB-[A-Z0-9][A-Z0-9-]*\b/)?.[0];

  const kindField = (scalar(pick(fm, 'type', 'kind', 'category')) ?? '').toLowerCase();
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
      scalar(pick(fm, 'root_cause', 'cause')) ??
      section(sections, /^(root cause|cause|what happened and why|why)/) ??
      labelled(body, /root cause|cause/),
    fix:
      scalar(pick(fm, 'fix', 'resolution', 'remediation')) ??
      section(sections, /^(fix|resolution|remediation|mitigation|how (?:it was|we) (?:fixed|resolved)|resolved by)/) ??
      labelled(body, /fix|resolution|remediation|mitigation|resolved by/),
    runbook: isRunbook ? id : rbId,
    timeToResolve: timeToResolve(fm, body),
    sections,
    body,
    file,
  };
}
