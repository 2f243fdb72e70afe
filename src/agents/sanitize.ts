/**
 * The one pass every agent result takes at the sandbox exit, whatever the agent did itself: in
 * the runner (inside the sandbox) and again in the activity that reads its stdout (the sandbox
 * is not trusted to have run it). Every string is redacted and its control characters made
 * visible; fields that name things (the suspected change, the culprit, change and incident ids)
 * keep only identifier-like values; change descriptions are masked like error signatures, so a
 * log line's free text (a name, an instruction) does not travel as a "description".
 */
import { clip, isIdentifier, visibleText } from '../report/text';
import type { AgentResult } from '../schemas/agent';
import { maskMessage } from './logs/mask';
import { redactDeep } from './redact';

const MAX_SUMMARY = 8000;
const MAX_TEXT = 1000;
const MAX_DESCRIPTION = 200;
const MAX_WARNINGS = 50;
const DROPPED = '[free text, not an identifier]';

const line = (s: string, n = MAX_TEXT) => clip(visibleText(s), n);

export function sanitizeAgentResult(raw: AgentResult): AgentResult {
  const r = redactDeep(raw);
  const dropped: string[] = [];
  /** Dropped values as they were: the timeline and the summary quote them too, and must not keep them. */
  const droppedValues = new Set<string>();
  const ident = (field: string, v: string | null): string | null => {
    if (v === null || isIdentifier(v)) return v;
    dropped.push(`${field} was not an identifier (${v.length} chars of free text) and was dropped`);
    if (v.length >= 4) droppedValues.add(v);
    return null;
  };
  const e = r.evidence;
  // Each raw description, masked: the timeline quotes them too, and must say the same.
  const masked = new Map<string, string>();
  const changes = e.changes.map((c, i) => {
    const description = clip(maskMessage(visibleText(c.description)), MAX_DESCRIPTION);
    if (c.description.length >= 4) masked.set(c.description, description);
    return { ts: line(c.ts, 64), kind: line(c.kind, 64), id: ident(`changes[${i}].id`, c.id), description };
  });
  const suspectedChange = ident('suspectedChange', e.suspectedChange);
  const culprit = ident('culprit', e.culprit);
  const undrop = (text: string) => {
    let out = text;
    for (const v of droppedValues) if (out.includes(v)) out = out.split(v).join(DROPPED);
    return out;
  };
  const unquote = (event: string) => {
    let out = event;
    for (const [rawDesc, m] of masked) if (out.includes(rawDesc)) out = out.split(rawDesc).join(m);
    return undrop(out);
  };
  const result: AgentResult = {
    agent: r.agent,
    summary: clip(visibleText(undrop(r.summary), { multiline: true }), MAX_SUMMARY),
    summarizedBy: r.summarizedBy,
    model: r.model === null ? null : line(r.model, 128),
    evidence: {
      onset: e.onset === null ? null : line(e.onset, 64),
      suspectedChange,
      culprit,
      changes,
      topErrors: e.topErrors.map((t) => ({
        ...t,
        signature: line(t.signature, 300),
        firstSeen: line(t.firstSeen, 64),
        ...(t.lastSeen !== undefined ? { lastSeen: line(t.lastSeen, 64) } : {}),
      })),
      anomalies: e.anomalies.map((a) => ({
        ...a,
        name: line(a.name, 200),
        promql: line(a.promql, 2000),
        onset: a.onset === null ? null : line(a.onset, 64),
        ...(a.unit !== undefined ? { unit: line(a.unit, 32) } : {}),
      })),
      matchedIncidents: e.matchedIncidents.flatMap((m, i) => {
        if (ident(`matchedIncidents[${i}].id`, m.id) === null) return [];
        return [
          {
            ...m,
            title: line(m.title, 300),
            ...(m.date !== undefined ? { date: line(m.date, 64) } : {}),
            ...(m.rootCause !== undefined ? { rootCause: line(m.rootCause) } : {}),
            ...(m.fix !== undefined ? { fix: line(m.fix) } : {}),
            ...(m.runbook !== undefined ? { runbook: ident(`matchedIncidents[${i}].runbook`, m.runbook) ?? undefined } : {}),
            ...(m.timeToResolve !== undefined ? { timeToResolve: line(m.timeToResolve, 64) } : {}),
          },
        ];
      }),
      timeline: e.timeline.map((t) => ({ ts: line(t.ts, 64), source: line(t.source, 64), event: line(unquote(t.event), 500) })),
    },
    warnings: [...r.warnings.map((w) => line(w, 500)), ...dropped].slice(0, MAX_WARNINGS),
  };
  return result;
}
