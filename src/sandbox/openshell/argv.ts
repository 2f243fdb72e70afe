/**
 * The `openshell` CLI contract (DESIGN.md section 3), as pure argv builders so tests can check
 * it without a process. Checked against NVIDIA/OpenShell v0.0.111 (crates/openshell-cli).
 */
import type { ResolvedEndpoint } from '../../schemas/policy';

export interface HostPort {
  host: string;
  port: number;
}

/**
 * No `-o json`: clap declares `--output` as conflicting with a trailing command, so
 * `-o json --detach -- sleep infinity` exits 2. The name is ours, so create's output is not needed.
 */
export function createArgv(name: string, policyFile: string, from?: string): string[] {
  return [
    'sandbox', 'create', '--name', name, '--policy', policyFile,
    ...(from ? ['--from', from] : []),
    '--detach', '--', 'sleep', 'infinity',
  ];
}

const ENV_KEY = /^[A-Za-z_][A-Za-z0-9_]*$/;

/**
 * The environment travels as an `env K=V` prefix, as the contract has no exec `--env`.
 * Values are therefore on argv: readable on the worker host (/proc/<pid>/cmdline of the
 * `openshell` process) for the command's duration, and in the sandbox's process table until
 * `env` execs the command. Only the sandbox's own user and the worker host's users can see them.
 */
export function execArgv(name: string, command: string[], opts: { timeoutSeconds?: number; env?: Record<string, string> } = {}): string[] {
  if (command.length === 0) throw new Error('exec needs a command');
  const env = Object.entries(opts.env ?? {});
  for (const [k] of env) if (!ENV_KEY.test(k)) throw new Error(`invalid environment variable name: ${k}`);
  return [
    'sandbox', 'exec', '-n', name,
    ...(opts.timeoutSeconds ? ['--timeout', String(opts.timeoutSeconds)] : []),
    '--',
    ...(env.length ? ['env', ...env.map(([k, v]) => `${k}=${v}`)] : []),
    ...command,
  ];
}

/** `--no-git-ignore`: otherwise the CLI silently drops files a .gitignore names (e.g. a built bundle). */
export function uploadArgv(name: string, localPath: string, dest?: string): string[] {
  return ['sandbox', 'upload', name, localPath, ...(dest ? [dest] : []), '--no-git-ignore'];
}

export function deleteArgv(name: string): string[] {
  return ['sandbox', 'delete', name];
}

export function listArgv(): string[] {
  return ['sandbox', 'list', '--names'];
}

/** Denials are OCSF shorthand lines the sandbox pushes to the gateway's log buffer. */
export function logsArgv(name: string, lines = 2000): string[] {
  return ['logs', name, '-n', String(lines), '--source', 'sandbox'];
}

/**
 * host:port:access:protocol:enforcement. A tcp endpoint is plain `host:port`: OpenShell refuses
 * access/enforcement with tcp, and plain L4 also accepts literal IPs. The spec is colon-separated,
 * so an IPv6 literal cannot be expressed.
 */
export function endpointSpec(e: ResolvedEndpoint): string {
  if (e.host.includes(':')) throw new Error(`openshell cannot express an IPv6 host in --add-endpoint: ${e.host}`);
  if (e.protocol === 'tcp') return `${e.host}:${e.port}`;
  return `${e.host}:${e.port}:${e.access}:${e.protocol}:${e.enforcement}`;
}

/**
 * One call per distinct binary set: every `--binary` applies to every `--add-endpoint` of the same
 * call, and one call is one atomic policy revision.
 */
export function addEndpointsArgv(name: string, endpoints: ResolvedEndpoint[]): string[] {
  const binaries = [...new Set(endpoints.flatMap((e) => e.binaries))];
  return [
    'policy', 'update', name,
    ...endpoints.flatMap((e) => ['--add-endpoint', endpointSpec(e)]),
    ...binaries.flatMap((b) => ['--binary', b]),
    '--wait',
  ];
}

export function removeEndpointsArgv(name: string, endpoints: HostPort[]): string[] {
  return ['policy', 'update', name, ...endpoints.flatMap((e) => ['--remove-endpoint', `${e.host}:${e.port}`]), '--wait'];
}

/** An endpoint's binary set, order and repeats ignored. */
export function binariesKey(e: ResolvedEndpoint): string {
  return [...new Set(e.binaries)].sort().join('\0');
}

/** Groups endpoints by their binary set, order kept, for addEndpointsArgv. */
export function groupByBinaries(endpoints: ResolvedEndpoint[]): ResolvedEndpoint[][] {
  const groups = new Map<string, ResolvedEndpoint[]>();
  for (const e of endpoints) {
    const key = binariesKey(e);
    groups.set(key, [...(groups.get(key) ?? []), e]);
  }
  return [...groups.values()];
}
