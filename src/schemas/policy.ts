import { z } from 'zod';
import { AGENTS } from './agent';

/**
 * Who a sandbox is for: one of the specialists, or the Managed Agents session (ant mode), which
 * runs `ant beta:worker run` and reaches the Anthropic API and its own dispatch endpoint only.
 */
export const SandboxRole = z.enum([...AGENTS, 'session']);
export type SandboxRole = z.infer<typeof SandboxRole>;

/**
 * deploy/policies/<agent>.yaml: the single source of truth for an agent's sandbox.
 * Endpoints name a `target` (resolved from configuration at apply time) or a literal host:port,
 * so the same file serves every site.
 */
export const Endpoint = z
  .object({
    name: z.string().regex(/^[a-z0-9_-]+$/),
    target: z.enum(['model', 'prometheus', 'loki', 'anthropic', 'registry', 'dispatch']).optional(),
    host: z.string().optional(),
    port: z.number().int().min(1).max(65535).optional(),
    protocol: z.enum(['tcp', 'rest', 'websocket', 'sql']).default('rest'),
    access: z.enum(['read-only', 'read-write', 'full']).default('read-only'),
    enforcement: z.enum(['enforce', 'audit']).default('enforce'),
    binaries: z.array(z.string().startsWith('/')).min(1),
    /** Skip silently when the target is not configured (e.g. Loki). */
    optional: z.boolean().default(false),
  })
  .refine((e) => (e.target ? !e.host : !!e.host && !!e.port), {
    message: 'an endpoint has either a target or a host and port',
  });
export type Endpoint = z.infer<typeof Endpoint>;

export const Policy = z.object({
  version: z.literal(1),
  agent: SandboxRole,
  filesystem: z.object({
    /** Data mounts by name, read-only: logs | runbooks. */
    read_only: z.array(z.enum(['logs', 'runbooks'])).default([]),
    /** The private workdir is always writable; nothing else is. */
    include_workdir: z.literal(true).default(true),
  }),
  /** Allowed only while dependencies install, then removed. */
  install: z.object({ endpoints: z.array(Endpoint).default([]) }).default({ endpoints: [] }),
  network: z.object({ endpoints: z.array(Endpoint).default([]) }),
  limits: z
    .object({
      run_timeout_seconds: z.number().int().positive().default(300),
      /** Sandbox limits (local driver); unset: BULKHEAD_SANDBOX_MEMORY_MB / _PROCESSES / _CPU_SECONDS, else its defaults. */
      memory_mb: z.number().int().min(16).optional(),
      processes: z.number().int().min(4).optional(),
      /** CPU seconds per process. */
      cpu_seconds: z.number().int().positive().optional(),
    })
    .default({ run_timeout_seconds: 300 }),
});
export type Policy = z.infer<typeof Policy>;

/** A policy with targets resolved to concrete host:port pairs and mounts to host paths. */
export const ResolvedEndpoint = z.object({
  name: z.string(),
  host: z.string(),
  port: z.number().int(),
  protocol: z.enum(['tcp', 'rest', 'websocket', 'sql']),
  access: z.enum(['read-only', 'read-write', 'full']),
  enforcement: z.enum(['enforce', 'audit']),
  binaries: z.array(z.string()),
});
export type ResolvedEndpoint = z.infer<typeof ResolvedEndpoint>;

export const ResolvedPolicy = z.object({
  agent: SandboxRole,
  phase: z.enum(['install', 'run']),
  endpoints: z.array(ResolvedEndpoint),
  readOnly: z.array(z.string()),
});
export type ResolvedPolicy = z.infer<typeof ResolvedPolicy>;
