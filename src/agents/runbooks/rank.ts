import MiniSearch from 'minisearch';
import type { RunbookDoc } from './parse';

/** Words that carry no signal in incident text; BM25's idf shrinks them, removing them keeps queries short. */
const STOP = new Set(
  'a an and are as at be been but by for from has have in is it its of on or that the this to was were will with we our us after before during please find check look any what why how when which who did does into out over than then there their they them about'.split(
    ' ',
  ),
);

const processTerm = (t: string) => {
  const s = t.toLowerCase();
  if (s.length < 2 || STOP.has(s)) return null;
  // Light stemming so "timeouts"/"timeout", "exhausted"/"exhaustion" meet.
  return s.replace(/(ations?|ion|ions|ing|ed|es|s)$/, '') || s;
};

/** Splits on anything but letters/digits, and also on case and dash boundaries inside ids. */
const tokenize = (text: string) => {
  const parts = text.split(/[^\p{L}\p{N}]+/u).filter(Boolean);
  const extra: string[] = [];
  for (const p of text.match(/[\p{L}\p{N}][\p{L}\p{N}._-]*[\p{L}\p{N}]/gu) ?? []) if (/[-_.]/.test(p)) extra.push(p);
  for (const p of parts) {
    const camel = p.split(/(?<=[a-z])(?=[A-Z])/);
    if (camel.length > 1) extra.push(...camel);
  }
  return [...parts, ...extra];
};

export interface RankQuery {
  task: string;
  title: string;
  report: string;
  service: string;
}

export interface Ranked {
  doc: RunbookDoc;
  score: number;
}

/**
 * BM25+ (minisearch) over title, tags, services, root cause, fix and body. The query is the
 * task plus the incident's title and report; documents for the incident's service get a boost,
 * not a filter (a shared dependency's incident can still be the best match).
 */
export function rankRunbooks(docs: RunbookDoc[], q: RankQuery, opts: { serviceBoost?: number } = {}): Ranked[] {
  if (docs.length === 0) return [];
  const ms = new MiniSearch<{ i: number } & Record<string, string | number>>({
    idField: 'i',
    fields: ['title', 'tags', 'services', 'rootCause', 'fix', 'body'],
    storeFields: ['i'],
    tokenize,
    processTerm,
  });
  ms.addAll(
    docs.map((d, i) => ({
      i,
      title: d.title,
      tags: d.tags.join(' '),
      services: d.services.join(' '),
      rootCause: d.rootCause ?? '',
      fix: d.fix ?? '',
      body: d.body,
    })),
  );
  const service = q.service.toLowerCase();
  const boost = opts.serviceBoost ?? 1.5;
  const query = [q.task, q.title, q.report, q.service].join(' ');
  const hits = ms.search(query, {
    combineWith: 'OR',
    fuzzy: (term) => (term.length > 6 ? 0.15 : false),
    boost: { title: 2, tags: 1.5, services: 1.5, rootCause: 1.5, fix: 1, body: 1 },
    boostDocument: (id) => (docs[id as number]!.services.some((s) => s.toLowerCase() === service) ? boost : 1),
  });
  return hits.map((h) => ({ doc: docs[h.id as number]!, score: Math.round(h.score * 1000) / 1000 }));
}
