import { lintValue } from './lint';
import { parseConclusion, parseToolCalls, textOf } from './parse';
import type { BrainMode, BrainTurnResult, ContentBlock } from './types';

export interface RawTurn {
  mode: BrainMode;
  model: string | null;
  /** The assistant's blocks as the model returned them (tool inputs not yet redacted). */
  content: ContentBlock[];
  /** Anthropic stop_reason (the OpenAI brain maps finish_reason onto it). */
  stopReason: string | null;
  /** The turn budget is spent: conclude whatever the model did. */
  lastTurn: boolean;
}

/**
 * One model answer as the workflow's BrainTurnResult. Tool inputs are redacted in the assistant
 * message too, not only in the dispatches: that message is stored in workflow history.
 */
export function toTurnResult(raw: RawTurn): BrainTurnResult {
  let redactedTasks = 0;
  const content = raw.content.map((b): ContentBlock => {
    if (b.type !== 'tool_use') return b;
    const r = lintValue(b.input);
    redactedTasks += r.count;
    return { ...b, input: r.value };
  });
  const calls = parseToolCalls(content);
  const hasToolUse = content.some((b) => b.type === 'tool_use');
  const done = !hasToolUse || raw.lastTurn;
  // A refusal is not a conclusion; the report then speaks from the evidence.
  const concluding = done && raw.stopReason !== 'refusal';
  return {
    mode: raw.mode,
    model: raw.model,
    assistant: { role: 'assistant', content },
    dispatches: done ? [] : calls.dispatches,
    invalid: done ? [] : calls.invalid,
    conclusion: concluding ? parseConclusion(textOf(content)) : null,
    done,
    redactedTasks,
  };
}
