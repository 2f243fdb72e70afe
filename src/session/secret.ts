/**
 * The sessions token inside a work item's `secret` (base64url JSON {sessions_token, api_base_url?},
 * possibly unpadded), or null. Same rules as the SDK's sessionsTokenFromSecret
 * (lib/environments/worker.ts); never log the secret or the token.
 */
export function sessionsTokenFromSecret(secret: string | null | undefined): string | null {
  if (!secret) return null;
  try {
    const parsed: unknown = JSON.parse(Buffer.from(secret, 'base64url').toString('utf8'));
    if (!parsed || typeof parsed !== 'object' || Array.isArray(parsed)) return null;
    const token = (parsed as { sessions_token?: unknown }).sessions_token;
    return typeof token === 'string' && token !== '' ? token : null;
  } catch {
    return null;
  }
}
