import { z } from 'zod';
import { InputError as ConfigError } from './errors';

export { ConfigError };

/**
 * All configuration comes from the environment (flags override it in the CLI).
 * Secrets are read here, on the worker's side, and never travel in workflow inputs or results.
 */
export const ConfigSchema = z.object({
  TEMPORAL_ADDRESS: z.string().min(1).optional(),
  TEMPORAL_NAMESPACE: z.string().min(1).default('default'),
  BULKHEAD_TASK_QUEUE: z.string().min(1).default('bulkhead'),
  BULKHEAD_SANDBOX: z.enum(['local', 'openshell']).default('local'),
  BULKHEAD_SANDBOX_ROOT: z.string().min(1).optional(),
  /** Local sandbox limits (src/sandbox/local/limits.ts), unless the agent's policy sets its own. */
  BULKHEAD_SANDBOX_MEMORY_MB: z.string().regex(/^[1-9]\d*$/, 'a positive whole number of MB').optional(),
  BULKHEAD_SANDBOX_PROCESSES: z.string().regex(/^[1-9]\d*$/, 'a positive whole number').optional(),
  BULKHEAD_SANDBOX_CPU_SECONDS: z.string().regex(/^[1-9]\d*$/, 'a positive whole number of seconds').optional(),
  PROMETHEUS_URL: z.string().url().optional(),
  LOKI_URL: z.string().url().optional(),
  BULKHEAD_MODEL_URL: z.string().url().optional(),
  BULKHEAD_MODEL: z.string().min(1).optional(),
  BULKHEAD_MODEL_API_KEY: z.string().min(1).optional(),
  /** The specialists' model client bounds (read inside the sandbox; the worker passes them in). */
  BULKHEAD_MODEL_TIMEOUT_MS: z.string().regex(/^\d+$/, 'milliseconds').optional(),
  BULKHEAD_MODEL_RETRIES: z.string().regex(/^\d+$/, 'a whole number').optional(),
  BULKHEAD_MODEL_BUDGET_MS: z.string().regex(/^\d+$/, 'milliseconds').optional(),
  ANTHROPIC_API_KEY: z.string().min(1).optional(),
  ANTHROPIC_BASE_URL: z.string().url().optional(),
  BULKHEAD_BRAIN_MODEL: z.string().min(1).optional(),
  /** An OpenAI-compatible brain (e.g. the site's own vLLM) when no Anthropic key is used. */
  BULKHEAD_BRAIN_URL: z.string().url().optional(),
  BULKHEAD_BRAIN_API_KEY: z.string().min(1).optional(),
  BULKHEAD_MAX_SANDBOXES: z.coerce.number().int().positive().default(8),
  /** Warm sandboxes kept per agent and mount set (src/sandbox/pool.ts); 0 turns the pool off. */
  BULKHEAD_WARM_POOL: z.coerce.number().int().min(0).default(0),
  // Managed Agents mode. The claiming side (agents-worker or the on-work shim) and the session
  // worker share the state dir (same host): work secrets and lease echoes live there (0600),
  // never in workflow history.
  BULKHEAD_STATE_DIR: z.string().min(1).optional(),
  /** Unused since the session runner is SDK-based (README, Claude Managed Agents); kept for old configs. */
  BULKHEAD_ANT_BIN: z.string().min(1).optional(),
  /** What a session investigates: a scenario dir, or the data sources below with a live window. */
  BULKHEAD_SESSION_SCENARIO: z.string().min(1).optional(),
  BULKHEAD_LOGS_DIR: z.string().min(1).optional(),
  BULKHEAD_RUNBOOKS_DIR: z.string().min(1).optional(),
  /** `bulkhead agents-worker`: the self-hosted environment it polls (its key is read separately). */
  ANTHROPIC_ENVIRONMENT_ID: z.string().min(1).optional(),
  /** How long one `dispatch` call waits for its specialist before handing back a handle (< 120 s cut). */
  BULKHEAD_DISPATCH_WAIT_MS: z.coerce.number().int().positive().max(100_000).default(85_000),
  /** The session runner ends after its brain has been idle this long (SessionToolRunner maxIdleMs). */
  BULKHEAD_SESSION_MAX_IDLE_MS: z.coerce.number().int().positive().default(60_000),
  /**
   * This stack's identity on its sandboxes (src/sandbox/labels.ts): default derived from the
   * Temporal address and namespace. Set it when workers of one stack reach Temporal by different
   * addresses. A label value: at most 63 characters of [A-Za-z0-9._-], alphanumeric at both ends.
   */
  BULKHEAD_STACK: z.string().regex(/^[A-Za-z0-9](?:[A-Za-z0-9._-]{0,61}[A-Za-z0-9])?$/, 'at most 63 characters of [A-Za-z0-9._-], alphanumeric at both ends').optional(),
  /**
   * A host (name or address) sandboxes can reach this worker at, for endpoints the worker serves
   * to its sandboxes (the ant-mode dispatch endpoint). OpenShell's proxy refuses loopback, so under
   * BULKHEAD_SANDBOX=openshell it must be routable (a Service name or pod address); default 127.0.0.1.
   */
  BULKHEAD_DISPATCH_HOST: z.string().regex(/^[A-Za-z0-9.:[\]-]+$/, 'a host name or address').optional(),
  // Temporal beyond a dev server (src/stack/temporal-security.ts): TLS, mTLS files, API key.
  TEMPORAL_TLS: z.enum(['true', 'false']).optional(),
  TEMPORAL_TLS_CERT: z.string().min(1).optional(),
  TEMPORAL_TLS_KEY: z.string().min(1).optional(),
  TEMPORAL_TLS_CA: z.string().min(1).optional(),
  TEMPORAL_TLS_SERVER_NAME: z.string().min(1).optional(),
  TEMPORAL_API_KEY: z.string().min(1).optional(),
  // OpenShell driver settings (src/sandbox/openshell.ts): the CLI, the sandbox image, landlock.
  BULKHEAD_OPENSHELL_BIN: z.string().min(1).optional(),
  BULKHEAD_OPENSHELL_IMAGE: z.string().min(1).optional(),
  BULKHEAD_OPENSHELL_LANDLOCK: z.enum(['best_effort', 'hard_requirement']).optional(),
});
export type Config = z.infer<typeof ConfigSchema>;

/** Empty strings count as unset, as shells export them. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const keys = Object.keys(ConfigSchema.shape) as (keyof Config)[];
  const raw: Record<string, string> = {};
  for (const k of keys) {
    const v = env[k];
    if (v !== undefined && v !== '') raw[k] = v;
  }
  const parsed = ConfigSchema.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw new ConfigError(String(issue.path[0] ?? 'config'), issue.message);
  }
  const c = parsed.data;
  if (!!c.BULKHEAD_MODEL_URL !== !!c.BULKHEAD_MODEL) {
    throw new ConfigError(
      c.BULKHEAD_MODEL_URL ? 'BULKHEAD_MODEL' : 'BULKHEAD_MODEL_URL',
      'BULKHEAD_MODEL_URL and BULKHEAD_MODEL are set together or not at all',
    );
  }
  return c;
}
