import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { parse } from 'yaml';
import type { Sources } from '../schemas/agent';
import { Policy, type Endpoint, type ResolvedEndpoint, type ResolvedPolicy, type SandboxRole } from '../schemas/policy';

/** An invalid policy is permanent: retrying cannot fix a file. The message names the field. */
export class PolicyError extends Error {
  readonly nonRetryable = true;
  constructor(message: string) {
    super(message);
    this.name = 'PolicyError';
  }
}

export const POLICY_DIR = path.resolve(import.meta.dirname, '../../deploy/policies');

export function parsePolicy(text: string, source: string): Policy {
  let raw: unknown;
  try {
    raw = parse(text);
  } catch (e) {
    throw new PolicyError(`${source}: not valid YAML: ${(e as Error).message}`);
  }
  const r = Policy.safeParse(raw);
  if (!r.success) {
    const i = r.error.issues[0]!;
    throw new PolicyError(`${source}: ${i.path.join('.') || '(root)'}: ${i.message}`);
  }
  return r.data;
}

export async function loadPolicy(agent: SandboxRole, dir = POLICY_DIR): Promise<Policy> {
  const file = path.join(dir, `${agent}.yaml`);
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch {
    throw new PolicyError(`${file}: no policy for agent ${agent}`);
  }
  const p = parsePolicy(text, file);
  if (p.agent !== agent) throw new PolicyError(`${file}: agent: says ${p.agent}, expected ${agent}`);
  return p;
}

/** The concrete URLs behind each endpoint target, from the worker's configuration. */
export type Targets = Partial<Record<NonNullable<Endpoint['target']>, string>>;

/** host and port of a URL (default port by scheme, IPv6 brackets dropped); throws on a malformed URL. */
export function hostPort(url: string): { host: string; port: number } {
  const u = new URL(url);
  const port = u.port ? Number(u.port) : u.protocol === 'https:' ? 443 : 80;
  return { host: u.hostname.replace(/^\[|\]$/g, ''), port };
}

function resolveEndpoints(endpoints: Endpoint[], targets: Targets, agent: string): ResolvedEndpoint[] {
  const out: ResolvedEndpoint[] = [];
  for (const e of endpoints) {
    let hp: { host: string; port: number };
    if (e.target) {
      const url = targets[e.target];
      if (!url) {
        if (e.optional) continue;
        throw new PolicyError(`${agent}: network.endpoints.${e.name}: target ${e.target} is not configured`);
      }
      hp = hostPort(url);
    } else {
      hp = { host: e.host!, port: e.port! };
    }
    out.push({ name: e.name, ...hp, protocol: e.protocol, access: e.access, enforcement: e.enforcement, binaries: e.binaries });
  }
  return out;
}

/**
 * Install phase: the install endpoints only. Run phase: the network endpoints only, so the
 * registry allowance is gone once dependencies are in.
 */
export function resolvePolicy(policy: Policy, phase: 'install' | 'run', targets: Targets, sources: Sources): ResolvedPolicy {
  // A live incident's log dirs (already narrowed to its service) are mounted like a scenario's.
  const mounts = { logs: [sources.logsDir, ...(sources.logDirs ?? [])], runbooks: [sources.runbooksDir] };
  const readOnly = [...new Set(policy.filesystem.read_only.flatMap((m) => mounts[m].flatMap((p) => (p ? [path.resolve(p)] : []))))];
  const endpoints = resolveEndpoints(phase === 'install' ? policy.install.endpoints : policy.network.endpoints, targets, policy.agent);
  return { agent: policy.agent, phase, endpoints, readOnly };
}
