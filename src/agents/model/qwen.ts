/**
 * Qwen3 (served by vLLM) quirks. Thinking is switched off per request, but a template or server
 * that ignores the switch still emits <think> blocks in `content`, and reasoning parsers put
 * chain-of-thought in `reasoning_content` / `reasoning`. None of that may reach the summary:
 * it is unreviewed text that can echo raw evidence.
 */

/** Sent with every request; vLLM forwards it to the chat template. */
export const QWEN_EXTRA_BODY = { chat_template_kwargs: { enable_thinking: false } } as const;

/** Removes <think>…</think> blocks; an unterminated <think> swallows the rest of the text. */
export function stripThink(text: string | null | undefined): string {
  if (!text) return '';
  let out = text.replace(/<think>[\s\S]*?<\/think>/gi, '');
  // Some templates open the block in the prompt, so only the closing tag shows up in the output.
  const close = out.search(/<\/think>/i);
  if (close >= 0) out = out.slice(close + '</think>'.length);
  const open = out.search(/<think>/i);
  if (open >= 0) out = out.slice(0, open);
  return out.trim();
}

export interface ParsedToolCall {
  id: string;
  name: string;
  args: Record<string, unknown> | null;
  error: string | null;
}

/**
 * Tool-call arguments arrive as a JSON string (the wire format), sometimes double-encoded,
 * sometimes already an object from lenient servers, sometimes not JSON at all.
 */
export function parseToolArgs(raw: unknown): { args: Record<string, unknown> | null; error: string | null } {
  let value: unknown = raw;
  for (let i = 0; i < 2 && typeof value === 'string'; i++) {
    const s = value.trim();
    if (s === '') return { args: {}, error: null };
    try {
      value = JSON.parse(s);
    } catch (e) {
      return { args: null, error: `arguments are not valid JSON: ${(e as Error).message}` };
    }
  }
  if (value == null) return { args: {}, error: null };
  if (typeof value !== 'object' || Array.isArray(value)) {
    return { args: null, error: 'arguments must be a JSON object' };
  }
  return { args: value as Record<string, unknown>, error: null };
}

/**
 * Without vLLM's hermes tool parser, Qwen writes calls inline as
 * <tool_call>{"name": …, "arguments": {…}}</tool_call>. Recover them so the loop still works.
 */
export function inlineToolCalls(content: string | null | undefined): ParsedToolCall[] {
  if (!content) return [];
  const calls: ParsedToolCall[] = [];
  const re = /<tool_call>\s*([\s\S]*?)\s*<\/tool_call>/gi;
  let m: RegExpExecArray | null;
  while ((m = re.exec(content))) {
    const parsed = parseToolArgs(m[1]);
    const obj = parsed.args ?? {};
    const name = typeof obj.name === 'string' ? obj.name : '';
    const inner = parseToolArgs(obj.arguments ?? {});
    calls.push({
      id: `inline-${calls.length}`,
      name,
      args: inner.args,
      error: parsed.error ?? inner.error ?? (name ? null : 'tool call without a name'),
    });
  }
  return calls;
}

export function withoutInlineToolCalls(content: string): string {
  return content.replace(/<tool_call>[\s\S]*?<\/tool_call>/gi, '').trim();
}
