import { z } from 'zod';

/** `30s`, `30m`, `1h`, `2d`: what the config file and `--since` accept. */
export const DURATION_PATTERN = /^(\d+)(ms|s|m|h|d)$/;
const UNIT_MS = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 } as const;
export function durationMs(text: string): number | null {
  const m = DURATION_PATTERN.exec(text.trim());
  return m ? Number(m[1]) * UNIT_MS[m[2] as keyof typeof UNIT_MS] : null;
}
const Duration = z.string().regex(DURATION_PATTERN, 'a duration such as 30m, 1h or 2d');

/** An environment variable NAME: the file never holds a secret, the worker reads the value. */
const EnvName = z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'the NAME of an environment variable (the file holds no secrets)');
const HttpUrl = z.string().refine((u) => {
  try {
    return /^https?:$/.test(new URL(u).protocol);
  } catch {
    return false;
  }
}, 'an http:// or https:// URL');

const LogDir = z.union([z.string().min(1), z.object({ path: z.string().min(1), service: z.string().min(1) }).strict()]);

/**
 * bulkhead.yaml (DESIGN.md section 10): where a live investigation's data lives. Keys are
 * strict, so a misspelt key is named rather than silently ignored.
 */
export const ConfigFile = z
  .object({
    sources: z
      .object({
        prometheus: z
          .object({
            url: HttpUrl,
            /** Env var whose value is the whole Authorization header (e.g. `Bearer ...`). */
            auth_env: EnvName.optional(),
          })
          .strict()
          .optional(),
        loki: z
          .object({
            url: HttpUrl,
            /** X-Scope-OrgID; a tenant id is not a secret. */
            tenant: z.string().min(1).optional(),
            auth_env: EnvName.optional(),
          })
          .strict()
          .optional(),
        logs: z
          .object({
            dirs: z.array(LogDir).min(1),
            /** IANA zone for zone-less timestamps (default UTC). */
            timezone: z
              .string()
              .refine((tz) => {
                try {
                  new Intl.DateTimeFormat('en', { timeZone: tz });
                  return true;
                } catch {
                  return false;
                }
              }, 'an IANA time zone such as Europe/Berlin')
              .optional(),
          })
          .strict()
          .optional(),
        runbooks: z.object({ dir: z.string().min(1) }).strict().optional(),
      })
      .strict()
      .default({}),
    notify: z
      .array(
        z
          .object({
            /** A literal URL, or url_env naming the variable that holds it (Slack URLs are secrets). */
            url: HttpUrl.optional(),
            url_env: EnvName.optional(),
            format: z.enum(['slack', 'json']).default('json'),
          })
          .strict()
          .refine((n) => !!n.url !== !!n.url_env, { message: 'give url or url_env (exactly one)', path: ['url'] }),
      )
      .default([]),
    intake: z
      .object({
        service_label: z.string().min(1).default('service'),
        lookback: Duration.default('30m'),
        dedupe_for: Duration.default('1h'),
        /** Where people open an investigation (a Temporal UI or this server's URL); used in notifications. */
        link_base: HttpUrl.optional(),
      })
      .strict()
      .default({ service_label: 'service', lookback: '30m', dedupe_for: '1h' }),
  })
  .strict();
export type ConfigFile = z.infer<typeof ConfigFile>;
