import OpenAI from 'openai';
import { proxiedFetch } from '../http';

export interface ModelClientOptions {
  url: string;
  apiKey?: string;
  /** Per attempt. */
  timeoutMs?: number;
  /** Retries after the first attempt. */
  maxRetries?: number;
}

function envInt(name: string, fallback: number): number {
  const v = Number(process.env[name]);
  return Number.isFinite(v) && v >= 0 ? v : fallback;
}

export function clientOptionsFromEnv(url: string): ModelClientOptions {
  return {
    url,
    apiKey: process.env.BULKHEAD_MODEL_API_KEY,
    timeoutMs: envInt('BULKHEAD_MODEL_TIMEOUT_MS', 60_000),
    maxRetries: envInt('BULKHEAD_MODEL_RETRIES', 2),
  };
}

/**
 * The SDK's retry policy is the one we want: exponential backoff with jitter on timeouts,
 * connection errors, 408/409/429 and 5xx, and none on the other 4xx (a bad request or a bad
 * key does not get better by asking again). We only bound it.
 */
export function createModelClient(opts: ModelClientOptions): OpenAI {
  return new OpenAI({
    baseURL: opts.url,
    // vLLM accepts any key unless started with --api-key; the SDK refuses an empty one.
    apiKey: opts.apiKey || 'EMPTY',
    timeout: opts.timeoutMs ?? 60_000,
    maxRetries: opts.maxRetries ?? 2,
    fetch: proxiedFetch,
  });
}
