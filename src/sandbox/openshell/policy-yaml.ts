import { stringify } from 'yaml';
import type { ResolvedEndpoint } from '../../schemas/policy';

export type LandlockCompatibility = 'best_effort' | 'hard_requirement';

export interface OpenShellPolicyInput {
  /**
   * Paths known to exist IN THE SANDBOX IMAGE, readable there (BULKHEAD_OPENSHELL_IMAGE_PATHS).
   * Never the worker's data mounts: an OpenShell sandbox does not see the worker's filesystem,
   * and under `hard_requirement` a path absent from the image aborts the sandbox's start.
   */
  imagePaths?: string[];
  /** Network allowances. Empty (the default) means deny-all. */
  endpoints?: ResolvedEndpoint[];
  landlock?: LandlockCompatibility;
}

/**
 * What a process needs to start (node, libc, certificates): OpenShell's own restrictive default
 * (crates/openshell-policy/src/lib.rs restrictive_default_policy) without /app and /var/log.
 * Only paths every image has: `landlock: hard_requirement` aborts start on any path it cannot
 * open, so no /lib64 (absent on arm64 and musl images) and no /sandbox (the workdir is included
 * by include_workdir, wherever the image's WORKDIR puts it).
 */
export const SYSTEM_READ_ONLY = ['/usr', '/lib', '/etc', '/proc', '/dev/urandom'];
export const READ_WRITE = ['/tmp', '/dev/null'];

/** OpenShell's rule names become map keys; keep them to what its own generator emits. */
export function ruleKey(name: string): string {
  return name.replace(/[^A-Za-z0-9_]/g, '_');
}

/** An L4-only (tcp) endpoint carries no access or enforcement: OpenShell rejects them there. */
function endpointYaml(e: ResolvedEndpoint): Record<string, unknown> {
  if (e.protocol === 'tcp') return { host: e.host, port: e.port };
  return { host: e.host, port: e.port, protocol: e.protocol, enforcement: e.enforcement, access: e.access };
}

/**
 * The whole policy. Its static sections (filesystem, landlock, process) depend only on the
 * driver's settings, never on the call: `policy set` must carry them unchanged on a live sandbox
 * (crates/openshell-server/src/grpc/validation.rs validate_static_fields_unchanged).
 */
export function openShellPolicy(input: OpenShellPolicyInput): Record<string, unknown> {
  const readOnly = [...new Set([...SYSTEM_READ_ONLY, ...(input.imagePaths ?? [])])];
  const doc: Record<string, unknown> = {
    version: 1,
    filesystem_policy: { include_workdir: true, read_only: readOnly, read_write: READ_WRITE },
    landlock: { compatibility: input.landlock ?? 'hard_requirement' },
    process: { run_as_user: 'sandbox', run_as_group: 'sandbox' },
  };
  const policies: Record<string, unknown> = {};
  for (const e of input.endpoints ?? []) {
    const key = ruleKey(e.name);
    const prev = policies[key] as { endpoints: unknown[]; binaries: { path: string }[] } | undefined;
    // Two endpoints under one name (install + run of the same target) share the rule.
    policies[key] = {
      name: e.name,
      endpoints: [...(prev?.endpoints ?? []), endpointYaml(e)],
      binaries: [...new Map([...(prev?.binaries ?? []), ...e.binaries.map((path) => ({ path }))].map((b) => [b.path, b])).values()],
    };
  }
  if (Object.keys(policies).length) doc.network_policies = policies;
  return doc;
}

/** The YAML text given to `openshell sandbox create --policy FILE` and `policy set --policy FILE`. */
export function renderOpenShellPolicy(input: OpenShellPolicyInput): string {
  return stringify(openShellPolicy(input));
}
