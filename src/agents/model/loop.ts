import type OpenAI from 'openai';
import type {
  ChatCompletionMessageParam,
  ChatCompletionMessageToolCall,
  ChatCompletionTool,
} from 'openai/resources/chat/completions';
import { redact } from '../redact';
import type { AgentTool } from '../types';
import { QWEN_EXTRA_BODY, inlineToolCalls, parseToolArgs, stripThink, withoutInlineToolCalls, type ParsedToolCall } from './qwen';

export interface LoopOptions {
  client: OpenAI;
  model: string;
  messages: ChatCompletionMessageParam[];
  tools: AgentTool[];
  /** Model calls that may request tools; one more call without tools forces the answer. */
  maxToolRounds?: number;
  /** Tool output is cut to this many characters before it goes back to the model. */
  maxToolChars?: number;
  maxTokens?: number;
  signal?: AbortSignal;
  log: (msg: string) => void;
}

export interface LoopResult {
  /** Final answer with reasoning removed; '' when the model never produced one. */
  text: string;
  calls: number;
  toolCalls: number;
  warnings: string[];
}

export function toOpenAITools(tools: AgentTool[]): ChatCompletionTool[] {
  return tools.map((t) => ({
    type: 'function',
    function: { name: t.name, description: t.description, parameters: t.parameters },
  }));
}

function wireToolCalls(calls: ChatCompletionMessageToolCall[] | undefined): ParsedToolCall[] {
  return (calls ?? []).flatMap((c) => {
    if (c.type !== 'function') return [];
    const { args, error } = parseToolArgs(c.function.arguments);
    return [{ id: c.id, name: c.function.name, args, error }];
  });
}

async function runTool(call: ParsedToolCall, tools: AgentTool[], maxChars: number): Promise<string> {
  if (call.error) return `error: ${call.error}`;
  const tool = tools.find((t) => t.name === call.name);
  if (!tool) return `error: unknown tool "${call.name}"; available: ${tools.map((t) => t.name).join(', ')}`;
  let out: string;
  try {
    out = await tool.run(call.args ?? {});
  } catch (e) {
    out = `error: ${(e as Error).message}`;
  }
  if (out.length > maxChars) out = `${out.slice(0, maxChars)}\n[truncated ${out.length - maxChars} characters]`;
  // Tool output is raw data (label values, log lines); the model endpoint is outside the sandbox.
  return redact(out).text;
}

/**
 * The bounded tool-calling loop. Each round is one chat completion; tool calls are executed
 * and answered with tool messages. After the last tool round, or when the model answers with
 * nothing, it is asked once more without tools for a plain-text answer.
 */
export async function runToolLoop(opts: LoopOptions): Promise<LoopResult> {
  const maxToolRounds = opts.maxToolRounds ?? 4;
  const maxChars = opts.maxToolChars ?? 6000;
  const messages = [...opts.messages];
  const tools = toOpenAITools(opts.tools);
  const warnings: string[] = [];
  let calls = 0;
  let toolCalls = 0;
  let nudged = false;

  for (let round = 0; ; round++) {
    const offerTools = tools.length > 0 && round < maxToolRounds && !nudged;
    const completion = await opts.client.chat.completions.create(
      {
        model: opts.model,
        messages,
        ...(offerTools ? { tools, tool_choice: 'auto' as const } : {}),
        temperature: 0.2,
        max_tokens: opts.maxTokens ?? 700,
        // Not in the SDK's types; the SDK sends unknown body params as they are.
        ...(QWEN_EXTRA_BODY as object),
      },
      { signal: opts.signal },
    );
    calls++;
    const message = completion.choices?.[0]?.message;
    // `reasoning_content` / `reasoning` are never read: chain-of-thought stays out of the summary.
    const rawContent = typeof message?.content === 'string' ? message.content : '';
    let pending = wireToolCalls(message?.tool_calls);
    const inline = pending.length === 0 ? inlineToolCalls(rawContent) : [];
    pending = pending.length ? pending : inline;
    const content = stripThink(inline.length ? withoutInlineToolCalls(rawContent) : rawContent);

    if (pending.length && offerTools) {
      messages.push({
        role: 'assistant',
        content: content || null,
        tool_calls: pending.map((c) => ({
          id: c.id,
          type: 'function' as const,
          function: { name: c.name, arguments: JSON.stringify(c.args ?? {}) },
        })),
      });
      for (const call of pending) {
        toolCalls++;
        opts.log(`model called ${call.name}(${JSON.stringify(call.args ?? {})})`);
        const result = await runTool(call, opts.tools, maxChars);
        messages.push({ role: 'tool', tool_call_id: call.id, content: result });
      }
      continue;
    }
    if (pending.length) warnings.push('model asked for tools after its tool budget was spent; ignored');

    if (content) return { text: content, calls, toolCalls, warnings };
    if (nudged) {
      warnings.push('model returned an empty answer');
      return { text: '', calls, toolCalls, warnings };
    }
    // Qwen sometimes ends a turn with only reasoning or nothing at all; one plain re-ask.
    nudged = true;
    opts.log('model returned no text; asking once more for the summary');
    messages.push({ role: 'user', content: 'Write the summary now as plain text. Do not call tools.' });
  }
}
