import Anthropic from '@anthropic-ai/sdk';
import { ApplicationFailure } from '@temporalio/common';
import OpenAI from 'openai';
import { ConfigError, type Config } from '../config';
import { offlineTurn } from '../brain/offline';
import { fromOpenAIMessage, OPENAI_DISPATCH_TOOL, toOpenAIMessages } from '../brain/openai';
import { DISPATCH_TOOL, systemPrompt } from '../brain/prompt';
import { isLastTurn, requestMessages } from '../brain/request';
import { toTurnResult } from '../brain/turn';
import type { BrainMode, BrainTurnInput, BrainTurnResult, ContentBlock } from '../brain/types';
import { heartbeating } from './heartbeat';

// The newest Sonnet the installed SDK knows (it warns on deprecated ids such as claude-sonnet-4-5).
export const DEFAULT_ANTHROPIC_MODEL = 'claude-sonnet-5-5';
const MAX_TOKENS = 8192;

export interface BrainClientOptions {
  /** SDK-level retries for 429/529/5xx (they honour retry-after); Temporal retries beyond that. */
  maxRetries?: number;
  /** Per request; the activity heartbeats meanwhile, so a long request is not a dead worker. */
  timeoutMs?: number;
}

export interface BrainSelection {
  mode: BrainMode;
  model: string | null;
}

/** Which brain this worker runs: the Anthropic key wins, then an OpenAI-compatible URL, else offline. */
export function selectBrain(config: Config): BrainSelection {
  if (config.ANTHROPIC_API_KEY) return { mode: 'anthropic', model: config.BULKHEAD_BRAIN_MODEL ?? DEFAULT_ANTHROPIC_MODEL };
  if (config.BULKHEAD_BRAIN_URL) {
    const model = config.BULKHEAD_BRAIN_MODEL ?? config.BULKHEAD_MODEL;
    if (!model) throw new ConfigError('BULKHEAD_BRAIN_MODEL', 'required with BULKHEAD_BRAIN_URL (or set BULKHEAD_MODEL)');
    return { mode: 'openai', model };
  }
  return { mode: 'offline', model: null };
}

/** Names of the settings an operator should look at when the endpoint refuses us. */
interface Knobs {
  key: string;
  url: string;
  model: string;
}
const ANTHROPIC_KNOBS: Knobs = { key: 'ANTHROPIC_API_KEY', url: 'ANTHROPIC_BASE_URL', model: 'BULKHEAD_BRAIN_MODEL' };
const OPENAI_KNOBS: Knobs = { key: 'BULKHEAD_BRAIN_API_KEY', url: 'BULKHEAD_BRAIN_URL', model: 'BULKHEAD_BRAIN_MODEL' };

const REJECTED = new Set([400, 401, 403, 404, 422]);

function detailOf(err: InstanceType<typeof Anthropic.APIError> | InstanceType<typeof OpenAI.APIError>): string {
  const body = err.error as { error?: { type?: string; message?: string }; message?: string; type?: string } | undefined;
  const type = body?.error?.type ?? body?.type;
  const message = body?.error?.message ?? body?.message ?? err.message;
  return type ? `${type}: ${message}` : String(message);
}

/**
 * SDK errors as Temporal failures. Refusals (bad key, bad model, bad request) will not get better
 * by retrying, so they end the investigation with a message naming the setting to check; the
 * rest (429/529/5xx after the SDK's own retries, timeouts, refused connections) stay retryable
 * for the activity's retry policy. No message carries a key or a URL's value.
 */
export function brainFailure(err: unknown, mode: BrainMode, model: string, knobs: Knobs): unknown {
  const isApi = err instanceof Anthropic.APIError || err instanceof OpenAI.APIError;
  if (!isApi) return err;
  const status = err.status;
  const name = mode === 'anthropic' ? 'Anthropic brain' : 'OpenAI-compatible brain';
  if (typeof status === 'number' && REJECTED.has(status)) {
    const detail = detailOf(err);
    const what =
      status === 401
        ? `${knobs.key} rejected (401)`
        : status === 403
          ? `${knobs.key} is not allowed to use model ${model} (403)`
          : status === 404
            ? `model ${model} or endpoint not found (404): check ${knobs.model} and ${knobs.url}`
            : `${name} rejected the request (${status}): check ${knobs.model}`;
    return ApplicationFailure.create({
      message: `${what}: ${detail}`,
      type: 'BrainRequestRejected',
      nonRetryable: true,
      details: [{ status, mode, model }],
    });
  }
  // The details name the brain, so a report of a run whose first turn failed still says which.
  const retryable = (message: string, type: string) =>
    ApplicationFailure.create({ message, type, nonRetryable: false, details: [{ status: status ?? null, mode, model }] });
  if (err instanceof Anthropic.APIConnectionTimeoutError || err instanceof OpenAI.APIConnectionTimeoutError) {
    return retryable(`${name} timed out`, 'BrainTimeout');
  }
  if (err instanceof Anthropic.APIConnectionError || err instanceof OpenAI.APIConnectionError) {
    return retryable(`${name} unreachable: ${err.message} (check ${knobs.url})`, 'BrainUnreachable');
  }
  return retryable(`${name} unavailable (${status ?? 'no status'}): ${detailOf(err)}`, 'BrainUnavailable');
}

function anthropicTurn(config: Config, model: string, opts: Required<BrainClientOptions>) {
  const client = new Anthropic({
    apiKey: config.ANTHROPIC_API_KEY!,
    authToken: null,
    baseURL: config.ANTHROPIC_BASE_URL ?? null,
    maxRetries: opts.maxRetries,
    timeout: opts.timeoutMs,
  });
  return async (input: BrainTurnInput): Promise<BrainTurnResult> => {
    const last = isLastTurn(input);
    let msg: Anthropic.Message;
    try {
      msg = await client.messages.create({
        model,
        max_tokens: MAX_TOKENS,
        system: systemPrompt(),
        tools: [DISPATCH_TOOL],
        tool_choice: last ? { type: 'none' } : { type: 'auto' },
        messages: requestMessages(input) as Anthropic.MessageParam[],
      });
    } catch (err) {
      throw brainFailure(err, 'anthropic', model, ANTHROPIC_KNOBS);
    }
    // Only text and our tool calls enter the transcript; anything else is not ours to replay.
    const content = msg.content.flatMap((b): ContentBlock[] =>
      b.type === 'text'
        ? [{ type: 'text', text: b.text }]
        : b.type === 'tool_use'
          ? [{ type: 'tool_use', id: b.id, name: b.name, input: b.input }]
          : [],
    );
    return toTurnResult({ mode: 'anthropic', model: msg.model || model, content, stopReason: msg.stop_reason, lastTurn: last });
  };
}

function openaiTurn(config: Config, model: string, opts: Required<BrainClientOptions>) {
  const client = new OpenAI({
    // Local vLLM usually wants no key, but the SDK insists on one.
    apiKey: config.BULKHEAD_BRAIN_API_KEY ?? 'EMPTY',
    baseURL: config.BULKHEAD_BRAIN_URL!,
    organization: null,
    project: null,
    maxRetries: opts.maxRetries,
    timeout: opts.timeoutMs,
  });
  // Qwen3 thinks by default; a brain turn wants the decision, not the deliberation.
  const extra = /qwen/i.test(model) ? { chat_template_kwargs: { enable_thinking: false } } : {};
  return async (input: BrainTurnInput): Promise<BrainTurnResult> => {
    const last = isLastTurn(input);
    let res: OpenAI.Chat.ChatCompletion;
    try {
      res = await client.chat.completions.create({
        model,
        max_tokens: MAX_TOKENS,
        messages: toOpenAIMessages(systemPrompt(), requestMessages(input)),
        tools: [OPENAI_DISPATCH_TOOL],
        tool_choice: last ? 'none' : 'auto',
        ...extra,
      } as OpenAI.Chat.ChatCompletionCreateParamsNonStreaming);
    } catch (err) {
      throw brainFailure(err, 'openai', model, OPENAI_KNOBS);
    }
    const choice = res.choices?.[0];
    if (!choice) throw ApplicationFailure.retryable('OpenAI-compatible brain returned no choices', 'BrainUnavailable');
    const { content, stopReason } = fromOpenAIMessage(choice.message, choice.finish_reason, `call_t${input.turn}`);
    return toTurnResult({ mode: 'openai', model: res.model || model, content, stopReason, lastTurn: last });
  };
}

/** The brain activity. Secrets come from this worker's config and never enter inputs or results. */
export function createBrainActivities(config: Config, options: BrainClientOptions = {}) {
  const opts = { maxRetries: options.maxRetries ?? 2, timeoutMs: options.timeoutMs ?? 120_000 };
  const { mode, model } = selectBrain(config);
  const turn =
    mode === 'anthropic'
      ? anthropicTurn(config, model!, opts)
      : mode === 'openai'
        ? openaiTurn(config, model!, opts)
        : async (input: BrainTurnInput) => offlineTurn(input);
  return {
    async brainTurn(input: BrainTurnInput): Promise<BrainTurnResult> {
      // Heartbeats say "this worker is alive" while the model thinks.
      return heartbeating(5000, () => turn(input));
    },
  };
}
