import Anthropic from '@anthropic-ai/sdk';

/**
 * SDK clients for the work API, as the SDK's own worker builds them (lib/helper-client.ts:
 * Bearer credential, no x-api-key): one with the environment key (poll, ack) and one per item
 * with its sessions token (heartbeat, stop; the sheet: the per-session credential is preferred).
 * The SDK adds the managed-agents beta header itself (resources/beta/environments/work.ts).
 */
export function workClient(credential: string, baseURL: string | undefined): Anthropic {
  return new Anthropic({ apiKey: null, authToken: credential, baseURL: baseURL ?? 'https://api.anthropic.com', maxRetries: 2 });
}

export const statusOf = (e: unknown): number | null => (e instanceof Anthropic.APIError && typeof e.status === 'number' ? e.status : null);

/** 4xx other than 408/409/429 never recovers (the SDK's isFatal4xx, internal/utils/backoff.ts). */
export const isFatal4xx = (e: unknown): boolean => {
  const s = statusOf(e);
  return s !== null && s >= 400 && s < 500 && s !== 408 && s !== 409 && s !== 429;
};
