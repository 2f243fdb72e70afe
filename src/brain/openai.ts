import type {
  ChatCompletionFunctionTool,
  ChatCompletionMessage,
  ChatCompletionMessageParam,
} from 'openai/resources/chat/completions';
import { DISPATCH_TOOL } from './prompt';
import type { BrainMessage, ContentBlock } from './types';

// The transcript stays in Anthropic shape whatever the brain; these translate at the wire.

export const OPENAI_DISPATCH_TOOL: ChatCompletionFunctionTool = {
  type: 'function',
  function: { name: DISPATCH_TOOL.name, description: DISPATCH_TOOL.description, parameters: DISPATCH_TOOL.input_schema },
};

/** Reasoning models (Qwen3, DeepSeek-R1) may think out loud; only the answer is the answer. */
export function stripThinking(text: string): string {
  let t = text.replace(/<think>[\s\S]*?<\/think>/g, '');
  // Templates that open <think> in the prompt leave only the closing tag in the output.
  const close = t.indexOf('</think>');
  if (close >= 0) t = t.slice(close + '</think>'.length);
  return t.replace(/<think>[\s\S]*$/, '').trim();
}

export function toOpenAIMessages(system: string, transcript: BrainMessage[]): ChatCompletionMessageParam[] {
  const out: ChatCompletionMessageParam[] = [{ role: 'system', content: system }];
  for (const m of transcript) {
    if (typeof m.content === 'string') {
      out.push({ role: m.role, content: m.content });
      continue;
    }
    const text = m.content
      .filter((b): b is Extract<ContentBlock, { type: 'text' }> => b.type === 'text')
      .map((b) => b.text)
      .join('\n');
    if (m.role === 'assistant') {
      const calls = m.content.flatMap((b) =>
        b.type === 'tool_use'
          ? [{ id: b.id, type: 'function' as const, function: { name: b.name, arguments: JSON.stringify(b.input ?? {}) } }]
          : [],
      );
      out.push(calls.length ? { role: 'assistant', content: text || null, tool_calls: calls } : { role: 'assistant', content: text });
      continue;
    }
    // Tool messages must directly follow the assistant's tool_calls; any text goes after them.
    for (const b of m.content) {
      if (b.type !== 'tool_result') continue;
      out.push({ role: 'tool', tool_call_id: b.tool_use_id, content: b.is_error ? `ERROR: ${b.content}` : b.content });
    }
    if (text) out.push({ role: 'user', content: text });
  }
  return out;
}

const STOP: Record<string, string> = { tool_calls: 'tool_use', function_call: 'tool_use', stop: 'end_turn', length: 'max_tokens', content_filter: 'refusal' };

/** An OpenAI assistant message as Anthropic-shaped blocks and stop reason. */
export function fromOpenAIMessage(
  message: ChatCompletionMessage,
  finishReason: string | null,
  idPrefix: string,
): { content: ContentBlock[]; stopReason: string | null } {
  const content: ContentBlock[] = [];
  const text = stripThinking(message.content ?? '');
  if (text) content.push({ type: 'text', text });
  // Some servers send no id, or reuse call_0 for every call; results are matched by id.
  const seen = new Set<string>();
  const idOf = (id: string | undefined, i: number) => {
    const unique = id && !seen.has(id) ? id : `${idPrefix}_${i}`;
    seen.add(unique);
    return unique;
  };
  (message.tool_calls ?? []).forEach((c, i) => {
    if (c.type !== 'function') {
      content.push({ type: 'tool_use', id: idOf(c.id, i), name: c.custom.name, input: {} });
      return;
    }
    let input: unknown;
    try {
      input = JSON.parse(c.function.arguments || '{}');
    } catch {
      input = { unparsedArguments: c.function.arguments.slice(0, 500) };
    }
    content.push({ type: 'tool_use', id: idOf(c.id, i), name: c.function.name, input });
  });
  const hasCalls = content.some((b) => b.type === 'tool_use');
  // Some servers say "stop" even when they return tool calls; the calls are what matter.
  const stopReason = hasCalls ? 'tool_use' : (STOP[finishReason ?? ''] ?? finishReason);
  return { content, stopReason };
}
