import { spawn, spawnSync } from 'node:child_process';
import { SandboxError, type ExecOptions, type ExecResult } from '../driver';
import { mountArgs, PROXY_PORT_INSIDE, PROXY_SOCKET_INSIDE, type Layout } from './layout';
import { rlimitArgs, type LimitKind, type Limits, type SandboxCgroup } from './limits';

export const SANDBOX_NODE = process.env.BULKHEAD_SANDBOX_NODE ?? '/usr/bin/node';
export const BWRAP = process.env.BULKHEAD_BWRAP ?? 'bwrap';
const KILL_GRACE_MS = 1_000;
/** Root can give each sandbox its own host uid; anyone else runs sandboxes as themselves. */
export const RUN_AS_ROOT = process.getuid?.() === 0;
/** The uid (and gid) processes have inside the sandbox's user namespace. */
export const INSIDE_UID = 1000;

let userns: boolean | null = null;
/**
 * Whether an unprivileged uid may make a user namespace here (some distributions forbid it by
 * sysctl or AppArmor). Checked once; without it the sandbox still runs as its own unprivileged
 * host uid, only not renamed to INSIDE_UID.
 */
export function usernsAvailable(): boolean {
  if (!RUN_AS_ROOT) return true;
  if (userns === null) {
    const r = spawnSync('setpriv', ['--reuid', '65534', '--regid', '65534', '--clear-groups', '--', 'unshare', '--user', `--map-user=${INSIDE_UID}`, `--map-group=${INSIDE_UID}`, '--', '/bin/true'], { timeout: 5000 });
    userns = r.status === 0;
  }
  return userns;
}

export interface RunnerOptions {
  layout: Layout;
  /** The sandbox's own host uid/gid: unprivileged, used by nothing else. */
  hostUid: number;
  limits: Limits;
  cgroup: SandboxCgroup | null;
  /** The bwrap binary (default: BULKHEAD_BWRAP, else `bwrap` on PATH). */
  bwrap?: string;
}

/** Exit status of a command killed by a signal, as bwrap reports it (128 + signal number). */
const SIGXCPU_EXIT = 128 + 24;

/**
 * The sandbox's network namespace has only loopback: socat bridges the proxy port there to the
 * host-side egress proxy's unix socket, and the command starts once the bridge listens (its
 * socket shows in /proc/net/tcp: 127.0.0.1:3128, state LISTEN).
 */
const PORT_HEX = PROXY_PORT_INSIDE.toString(16).toUpperCase().padStart(4, '0');
const BRIDGE =
  'if command -v socat >/dev/null; then ' +
  `socat TCP-LISTEN:${PROXY_PORT_INSIDE},bind=127.0.0.1,fork,reuseaddr UNIX-CONNECT:${PROXY_SOCKET_INSIDE} </dev/null >/dev/null 2>&1 & ` +
  // Shell builtins only (no fork per poll): is 127.0.0.1:PORT in state LISTEN (0A) yet?
  `up() { while read -r _ l _ s _; do [ "$l" = 0100007F:${PORT_HEX} ] && [ "$s" = 0A ] && return 0; done < /proc/net/tcp; return 1; }; ` +
  'i=0; until up; do i=$((i+1)); [ $i -gt 5000 ] && break; done; ' +
  'fi; exec "$@"';

/**
 * Runs each exec in a fresh bubblewrap sandbox over the sandbox's persistent workdir: no process
 * stays between execs, so a sandbox costs nothing while idle and nothing started by one exec
 * survives it (bwrap's pid namespace ends with the command). bwrap (as root, so it can bind any
 * allowed path) makes the mount, pid, net, ipc and uts namespaces and the allow-listed mounts;
 * setpriv drops to the sandbox's own unprivileged host uid with no capabilities and
 * no_new_privs (setuid binaries do not elevate); prlimit sets the per-process backstops; unshare
 * enters a user namespace where that uid is INSIDE_UID.
 */
export class SandboxRunner {
  constructor(private readonly o: RunnerOptions) {}

  argv(argv: string[], env: Record<string, string>): string[] {
    const { layout, hostUid, limits, cgroup } = this.o;
    const proxyUrl = `http://127.0.0.1:${PROXY_PORT_INSIDE}`;
    const base: Record<string, string> = {
      PATH: '/usr/local/bin:/usr/bin:/bin',
      HOME: layout.workDir,
      TMPDIR: '/tmp',
      LANG: 'C.UTF-8',
      HTTP_PROXY: proxyUrl,
      HTTPS_PROXY: proxyUrl,
      http_proxy: proxyUrl,
      https_proxy: proxyUrl,
      // Loopback inside is the sandbox's own: only the proxy bridge listens there.
      NO_PROXY: 'localhost,127.0.0.1,::1',
      no_proxy: 'localhost,127.0.0.1,::1',
    };
    const bwrap = [
      this.o.bwrap ?? BWRAP,
      '--unshare-pid',
      '--unshare-net',
      '--unshare-ipc',
      '--unshare-uts',
      '--unshare-cgroup-try',
      '--hostname',
      'bulkhead-sandbox',
      '--die-with-parent',
      '--new-session',
      '--clearenv',
      ...Object.entries({ ...base, ...env }).flatMap(([k, v]) => ['--setenv', k, v]),
      ...mountArgs(layout),
      '--chdir',
      layout.workDir,
      // Not root (a developer's machine): bwrap itself is unprivileged and makes the user
      // namespace; the sandbox then runs as the caller's own uid.
      ...(RUN_AS_ROOT ? [] : ['--unshare-user', '--uid', String(INSIDE_UID), '--gid', String(INSIDE_UID), '--cap-drop', 'ALL']),
      '--',
      ...(RUN_AS_ROOT
        ? ['setpriv', '--reuid', String(hostUid), '--regid', String(hostUid), '--clear-groups', '--inh-caps=-all', '--bounding-set=-all', '--no-new-privs', '--']
        : []),
      'prlimit',
      ...rlimitArgs(limits, cgroup !== null, RUN_AS_ROOT),
      '--',
      ...(RUN_AS_ROOT && usernsAvailable() ? ['unshare', '--user', `--map-user=${INSIDE_UID}`, `--map-group=${INSIDE_UID}`, '--'] : []),
      '/bin/sh',
      '-c',
      BRIDGE,
      'sh',
      ...argv,
    ];
    // With cgroups, a shell puts itself in the sandbox's cgroups and then becomes bwrap, so every
    // process of the exec is born inside them.
    return cgroup ? ['/bin/sh', '-c', 'for f in $BH_CGROUP_PROCS; do echo $$ > "$f" || exit 125; done; exec "$@"', 'sh', ...bwrap] : bwrap;
  }

  exec(argv: string[], opts: ExecOptions = {}): Promise<ExecResult & { signal: string | null }> {
    const full = this.argv(argv, opts.env ?? {});
    return new Promise((resolve, reject) => {
      const child = spawn(full[0]!, full.slice(1), {
        // The worker's environment (its secrets) stays out: bwrap clears it anyway.
        env: { PATH: '/usr/bin:/bin', BH_CGROUP_PROCS: this.o.cgroup?.procsFiles.join(' ') ?? '' },
        stdio: ['pipe', 'pipe', 'pipe'],
        // Its own process group: a timeout or abort takes bwrap, and with it the pid namespace.
        detached: true,
      });
      const out: Buffer[] = [];
      const err: Buffer[] = [];
      let timedOut = false;
      let killTimer: NodeJS.Timeout | undefined;
      const kill = () => {
        signalGroup(child.pid, 'SIGTERM');
        killTimer = setTimeout(() => signalGroup(child.pid, 'SIGKILL'), KILL_GRACE_MS);
      };
      const timer = opts.timeoutMs && opts.timeoutMs > 0 ? setTimeout(() => ((timedOut = true), kill()), opts.timeoutMs) : undefined;
      const onAbort = () => {
        // Nobody waits for this command any more: no grace period.
        signalGroup(child.pid, 'SIGKILL');
        const e = new Error('exec aborted');
        e.name = 'AbortError';
        reject(opts.signal?.reason instanceof Error ? opts.signal.reason : e);
      };
      if (opts.signal?.aborted) onAbort();
      opts.signal?.addEventListener('abort', onAbort, { once: true });
      child.stdout!.on('data', (c: Buffer) => out.push(c));
      child.stderr!.on('data', (c: Buffer) => {
        err.push(c);
        opts.onStderr?.(c.toString('utf8'));
      });
      child.stdin!.on('error', () => {});
      child.stdin!.end(opts.stdin ?? '');
      child.once('error', (e) => {
        clearTimeout(timer);
        reject(new SandboxError(`cannot start ${full[0]}: ${e.message}`, 'DriverUnavailable', false));
      });
      child.once('close', (code, sig) => {
        clearTimeout(timer);
        clearTimeout(killTimer);
        opts.signal?.removeEventListener('abort', onAbort);
        const exitCode = code ?? 128 + (sig === 'SIGKILL' ? 9 : 15);
        resolve({
          exitCode,
          stdout: Buffer.concat(out).toString('utf8'),
          stderr: Buffer.concat(err).toString('utf8'),
          timedOut,
          signal: exitCode === SIGXCPU_EXIT ? 'SIGXCPU' : null,
        });
      });
    });
  }
}

function signalGroup(pid: number | undefined, sig: NodeJS.Signals): void {
  if (!pid) return;
  try {
    process.kill(-pid, sig);
  } catch {
    /* gone */
  }
}

/** A limit an exec's own exit shows (a CPU-time kill); memory and processes come from cgroup counters. */
export function limitFromSignal(signal: string | null | undefined): LimitKind | null {
  return signal === 'SIGXCPU' ? 'cpu' : null;
}
