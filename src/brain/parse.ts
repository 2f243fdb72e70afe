import { z } from 'zod';
import { AGENTS, AgentName } from '../schemas/agent';
import { DISPATCH_TOOL_NAME, MAX_TASK_CHARS } from './prompt';
import type { Conclusion, ContentBlock, Dispatch, InvalidCall } from './types';

const DispatchInput = z.object({
  agent: AgentName,
  task: z.string().trim().min(1).max(MAX_TASK_CHARS),
});

/** Says what was wrong in words the brain can act on in its next turn. */
function explain(input: unknown): string {
  if (!input || typeof input !== 'object' || Array.isArray(input)) {
    return 'dispatch input must be a JSON object {"agent": ..., "task": ...}';
  }
  const o = input as Record<string, unknown>;
  const problems: string[] = [];
  if (o.agent === undefined) problems.push(`missing "agent" (one of ${AGENTS.join(', ')})`);
  else if (!AgentName.safeParse(o.agent).success) {
    problems.push(`unknown agent ${JSON.stringify(String(o.agent).slice(0, 60))}; use one of ${AGENTS.join(', ')}`);
  }
  if (o.task === undefined || o.task === null) problems.push('missing "task"');
  else if (typeof o.task !== 'string') problems.push('"task" must be a string');
  else if (o.task.trim() === '') problems.push('"task" is empty');
  else if (o.task.trim().length > MAX_TASK_CHARS) {
    problems.push(`"task" is ${o.task.trim().length} characters; keep it under ${MAX_TASK_CHARS}`);
  }
  return problems.length ? `invalid dispatch: ${problems.join('; ')}` : 'invalid dispatch input';
}

export interface ParsedCalls {
  dispatches: Dispatch[];
  invalid: InvalidCall[];
}

/** Splits a turn's tool_use blocks into runnable dispatches and calls to answer with is_error. */
export function parseToolCalls(blocks: ContentBlock[]): ParsedCalls {
  const dispatches: Dispatch[] = [];
  const invalid: InvalidCall[] = [];
  let index = 0;
  for (const b of blocks) {
    if (b.type !== 'tool_use') continue;
    const at = index++;
    if (b.name !== DISPATCH_TOOL_NAME) {
      invalid.push({ toolUseId: b.id, index: at, error: `unknown tool "${b.name}"; the only tool is "${DISPATCH_TOOL_NAME}"` });
      continue;
    }
    const r = DispatchInput.safeParse(b.input);
    if (r.success) dispatches.push({ toolUseId: b.id, index: at, agent: r.data.agent, task: r.data.task });
    else invalid.push({ toolUseId: b.id, index: at, error: explain(b.input) });
  }
  return { dispatches, invalid };
}

export function textOf(blocks: ContentBlock[] | string): string {
  if (typeof blocks === 'string') return blocks;
  return blocks
    .filter((b): b is Extract<ContentBlock, { type: 'text' }> => b.type === 'text')
    .map((b) => b.text)
    .join('\n')
    .trim();
}

// Models drift on field names and shapes; accept the near misses rather than lose the answer.
const Str = z.union([z.string(), z.number()]).transform(String);
const TimelineItem = z
  .object({
    ts: Str.optional(),
    time: Str.optional(),
    timestamp: Str.optional(),
    source: Str.optional(),
    event: Str.optional(),
    description: Str.optional(),
  })
  .transform((t) => ({ ts: t.ts ?? t.time ?? t.timestamp ?? '', source: t.source ?? 'brain', event: t.event ?? t.description ?? '' }));
const Recommendation = z.union([
  Str,
  z.object({ action: Str }).transform((r) => r.action),
  z.object({ recommendation: Str }).transform((r) => r.recommendation),
]);
const ConclusionJson = z.object({
  rootCause: Str.optional(),
  root_cause: Str.optional(),
  recommendations: z.union([z.array(z.unknown()), Str]).optional(),
  timeline: z.array(z.unknown()).optional(),
});

/** Fenced blocks first (the prompt asks for ```json), last one wins; then bare {...} spans. */
function jsonCandidates(text: string): string[] {
  const out: string[] = [];
  for (const m of text.matchAll(/```(?:json|JSON)?\s*\n?([\s\S]*?)```/g)) out.unshift(m[1]!.trim());
  const first = text.indexOf('{');
  const last = text.lastIndexOf('}');
  if (first >= 0 && last > first) out.push(text.slice(first, last + 1));
  return out;
}

function fromJson(raw: string): Conclusion | null {
  let value: unknown;
  try {
    value = JSON.parse(raw);
  } catch {
    return null;
  }
  const r = ConclusionJson.safeParse(value);
  if (!r.success) return null;
  const rootCause = (r.data.rootCause ?? r.data.root_cause ?? '').trim();
  if (!rootCause) return null;
  const recs = r.data.recommendations;
  const recommendations = (typeof recs === 'string' ? [recs] : (recs ?? []))
    .map((x) => Recommendation.safeParse(x))
    .flatMap((x) => (x.success && x.data.trim() ? [x.data.trim()] : []));
  const timeline = (r.data.timeline ?? [])
    .map((x) => TimelineItem.safeParse(x))
    .flatMap((x) => (x.success && x.data.event ? [x.data] : []));
  return { rootCause, recommendations, timeline };
}

const BULLET = /^\s*(?:[-*\u2022]|\d+[.)])\s+(.+)$/;

/**
 * The brain's final answer as a Conclusion. Prefers the JSON object the prompt asks for; falls
 * back to the prose (all of it as the root cause, bullet lines as recommendations). Null when the
 * answer is empty, so the report builder writes the root cause from the evidence instead.
 */
export function parseConclusion(text: string): Conclusion | null {
  const trimmed = text.trim();
  if (!trimmed) return null;
  for (const c of jsonCandidates(trimmed)) {
    const parsed = fromJson(c);
    if (parsed) return parsed;
  }
  const recommendations = trimmed
    .split('\n')
    .map((l) => BULLET.exec(l)?.[1]?.trim())
    .filter((l): l is string => !!l);
  return { rootCause: trimmed, recommendations, timeline: [] };
}
