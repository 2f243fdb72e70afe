import { stringify } from 'yaml';
import type { ResolvedEndpoint } from '../../schemas/policy';

export type LandlockCompatibility = 'best_effort' | 'hard_requirement';

export interface OpenShellPolicyInput {
  /** Paths readable inside the sandbox (spec.readOnly), on top of the system paths a process needs. */
  readOnly: string[];
  /** Network allowances present from creation. Empty (the default) means deny-all. */
  endpoints?: ResolvedEndpoint[];
  landlock?: LandlockCompatibility;
}

/**
 * What a process needs to start at all (node, libc, certificates), after OpenShell's own examples.
 * Everything else outside the workdir is invisible.
 */
export const SYSTEM_READ_ONLY = ['/usr', '/lib', '/lib64', '/etc', '/proc', '/dev/urandom'];
export const READ_WRITE = ['/sandbox', '/tmp', '/dev/null'];

/** OpenShell's rule names become map keys; keep them to what its own generator emits. */
export function ruleKey(name: string): string {
  return name.replace(/[^A-Za-z0-9_]/g, '_');
}

/** An L4-only (tcp) endpoint carries no access or enforcement: OpenShell rejects them there. */
function endpointYaml(e: ResolvedEndpoint): Record<string, unknown> {
  if (e.protocol === 'tcp') return { host: e.host, port: e.port };
  return { host: e.host, port: e.port, protocol: e.protocol, enforcement: e.enforcement, access: e.access };
}

export function openShellPolicy(input: OpenShellPolicyInput): Record<string, unknown> {
  const readOnly = [...new Set([...SYSTEM_READ_ONLY, ...input.readOnly])];
  const doc: Record<string, unknown> = {
    version: 1,
    filesystem_policy: { include_workdir: true, read_only: readOnly, read_write: READ_WRITE },
    landlock: { compatibility: input.landlock ?? 'hard_requirement' },
    process: { run_as_user: 'sandbox', run_as_group: 'sandbox' },
  };
  const endpoints = input.endpoints ?? [];
  if (endpoints.length > 0) {
    const policies: Record<string, unknown> = {};
    for (const e of endpoints) {
      policies[ruleKey(e.name)] = {
        name: e.name,
        endpoints: [endpointYaml(e)],
        binaries: e.binaries.map((path) => ({ path })),
      };
    }
    doc.network_policies = policies;
  }
  return doc;
}

/** The YAML text given to `openshell sandbox create --policy FILE`. */
export function renderOpenShellPolicy(input: OpenShellPolicyInput): string {
  return stringify(openShellPolicy(input));
}
