/**
 * The `openshell` CLI contract (../shared/contracts/openshell.md), as pure argv builders so tests
 * can check it without a process. Checked against NVIDIA/OpenShell v0.0.111
 * (crates/openshell-cli/src/main.rs clap definitions).
 */

/**
 * No `-o json`: clap declares `--output` as conflicting with a trailing command, so
 * `-o json --detach -- sleep infinity` exits 2. The main process is `sleep infinity`: with no
 * command it is `/bin/bash -l`, and a main process that exits puts the sandbox in Error.
 * Labels (`--label k=v`, repeatable) keep owner, agent and stack on the gateway.
 */
export function createArgv(name: string, policyFile: string, opts: { from?: string; labels?: Record<string, string> } = {}): string[] {
  return [
    'sandbox', 'create', '--name', name, '--policy', policyFile,
    ...(opts.from ? ['--from', opts.from] : []),
    ...Object.entries(opts.labels ?? {}).flatMap(([k, v]) => ['--label', `${k}=${v}`]),
    '--detach', '--', 'sleep', 'infinity',
  ];
}

const ENV_KEY = /^[A-Za-z_][A-Za-z0-9_]*$/;

/**
 * `--env KEY=VALUE` (repeatable, since v0.0.59): keys `^[A-Za-z_][A-Za-z0-9_]*$`, `OPENSHELL_*`
 * reserved, no NUL or newline in values (crates/openshell-cli/src/main.rs, `sandbox exec --env`;
 * crates/openshell-server/src/grpc/validation.rs). Values are on the CLI's argv on the worker
 * host, never in the sandbox's process table.
 */
export function execArgv(name: string, command: string[], opts: { timeoutSeconds?: number; env?: Record<string, string> } = {}): string[] {
  if (command.length === 0) throw new Error('exec needs a command');
  const env = Object.entries(opts.env ?? {});
  for (const [k, v] of env) {
    if (!ENV_KEY.test(k)) throw new Error(`invalid environment variable name: ${k}`);
    if (k.startsWith('OPENSHELL_')) throw new Error(`environment variable ${k}: the OPENSHELL_ prefix is reserved`);
    if (/[\0\n\r]/.test(v)) throw new Error(`environment variable ${k}: value contains NUL or a newline`);
  }
  return [
    'sandbox', 'exec', '-n', name,
    ...(opts.timeoutSeconds ? ['--timeout', String(opts.timeoutSeconds)] : []),
    ...env.flatMap(([k, v]) => ['--env', `${k}=${v}`]),
    '--',
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

/** One page of `-o json` rows: the list stops at `--limit` (default 100), so the driver pages. */
export function listArgv(opts: { limit: number; offset: number; selector?: string }): string[] {
  return [
    'sandbox', 'list', '-o', 'json', '--limit', String(opts.limit), '--offset', String(opts.offset),
    ...(opts.selector ? ['--selector', opts.selector] : []),
  ];
}

/** Denials are OCSF shorthand lines the sandbox pushes to the gateway's log buffer (last 2000 kept). */
export function logsArgv(name: string, lines = 2000): string[] {
  return ['logs', name, '-n', String(lines), '--source', 'sandbox'];
}

/**
 * The whole network policy in one revision: `policy set` replaces network_policies wholesale
 * (crates/openshell-cli/src/run.rs sandbox_policy_set), so there is no window with both the old
 * and the new endpoints, and no merge that keeps an existing rule's access
 * (crates/openshell-policy/src/merge.rs).
 */
export function policySetArgv(name: string, policyFile: string, timeoutSeconds = 60): string[] {
  return ['policy', 'set', name, '--policy', policyFile, '--wait', '--timeout', String(timeoutSeconds)];
}
