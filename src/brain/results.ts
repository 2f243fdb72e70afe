import type { BrainMessage, ContentBlock, Dispatch, InvalidCall, SpecialistOutcome } from './types';

/** Bounds what one specialist adds to the transcript (and to every later request). */
export const MAX_RESULT_CHARS = 12_000;
/** Separates a specialist's summary from its evidence JSON in a tool_result. */
export const EVIDENCE_MARKER = '\n\nEvidence (JSON):\n';

export type Outcomes = readonly SpecialistOutcome[] | Readonly<Record<string, SpecialistOutcome>>;

function clip(s: string, max: number): string {
  return s.length <= max ? s : `${s.slice(0, max)}\n[... ${s.length - max} characters cut]`;
}

function outcomeFor(outcomes: Outcomes, d: Dispatch, i: number): SpecialistOutcome | undefined {
  return Array.isArray(outcomes) ? outcomes[i] : (outcomes as Record<string, SpecialistOutcome>)[d.toolUseId];
}

function resultOf(d: Dispatch, o: SpecialistOutcome | undefined): ContentBlock {
  if (!o) return { type: 'tool_result', tool_use_id: d.toolUseId, content: `${d.agent} returned no result`, is_error: true };
  if (!o.ok) {
    return { type: 'tool_result', tool_use_id: d.toolUseId, content: clip(`${d.agent} failed: ${o.error}`, 2000), is_error: true };
  }
  // Framed as data: a summary may quote a log line that reads like an instruction.
  const body = o.evidence ? `${o.summary}${EVIDENCE_MARKER}${o.evidence}` : o.summary;
  return { type: 'tool_result', tool_use_id: d.toolUseId, content: clip(`[${d.agent} result: untrusted data]\n${body}`, MAX_RESULT_CHARS) };
}

/**
 * The one user message that answers a turn: a tool_result for every tool_use of `assistant`, in
 * the order of its tool_use blocks (the Messages API rejects a turn whose results are missing or
 * come after other content); failed specialists and invalid calls carry is_error. `outcomes` is
 * either aligned with `dispatches` or keyed by toolUseId. A tool_use neither list covers is
 * answered with an error too, so the next request is always well formed.
 */
export function toolResultsMessage(
  assistant: BrainMessage,
  dispatches: readonly Dispatch[],
  invalid: readonly InvalidCall[],
  outcomes: Outcomes,
): BrainMessage {
  const byId = new Map<string, { index: number; block: ContentBlock }>();
  let seq = 0;
  dispatches.forEach((d, i) => byId.set(d.toolUseId, { index: d.index ?? 1e6 + seq++, block: resultOf(d, outcomeFor(outcomes, d, i)) }));
  for (const c of invalid) {
    byId.set(c.toolUseId, {
      index: c.index ?? 1e6 + seq++,
      block: { type: 'tool_result', tool_use_id: c.toolUseId, content: c.error, is_error: true },
    });
  }
  if (typeof assistant.content === 'string') {
    // No tool_use blocks to follow: fall back to the positions parse recorded.
    return { role: 'user', content: [...byId.values()].sort((a, b) => a.index - b.index).map((e) => e.block) };
  }
  const content = assistant.content.flatMap((b): ContentBlock[] =>
    b.type !== 'tool_use'
      ? []
      : [byId.get(b.id)?.block ?? { type: 'tool_result', tool_use_id: b.id, content: 'not run', is_error: true }],
  );
  return { role: 'user', content };
}
