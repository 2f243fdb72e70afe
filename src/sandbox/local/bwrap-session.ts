import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { SandboxError, type ExecOptions, type ExecResult } from '../driver';
import { mountArgs, PROXY_PORT_INSIDE, PROXY_SOCKET_INSIDE, type Layout } from './layout';
import { rlimitArgs, type LimitKind, type Limits, type SandboxCgroup } from './limits';

export const SANDBOX_NODE = process.env.BULKHEAD_SANDBOX_NODE ?? '/usr/bin/node';
const BWRAP = process.env.BULKHEAD_BWRAP ?? 'bwrap';
const READY_TIMEOUT_MS = 15_000;
/** Root can give each sandbox its own host uid; anyone else runs sandboxes as themselves. */
export const RUN_AS_ROOT = process.getuid?.() === 0;
/** The uid (and gid) processes have inside the sandbox's user namespace. */
export const INSIDE_UID = 1000;

/** What an exec's own result says about a limit (the host-side cgroup counters say the rest). */
export interface DaemonResult extends ExecResult {
  signal?: string | null;
}

interface Pending {
  resolve: (r: DaemonResult) => void;
  reject: (e: Error) => void;
  onStderr?: (chunk: string) => void;
}

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

export interface SessionOptions {
  layout: Layout;
  /** The sandbox's own host uid/gid: unprivileged, used by nothing else. */
  hostUid: number;
  limits: Limits;
  cgroup: SandboxCgroup | null;
}

/**
 * One bubblewrap process per sandbox. bwrap (started as root, so it can bind any allowed path)
 * makes the mount, pid, net, ipc and uts namespaces and the allow-listed mounts; then setpriv
 * drops to the sandbox's own unprivileged host uid with no capabilities (bounding set empty) and
 * no_new_privs (setuid binaries do not elevate); prlimit sets the per-process backstops; unshare
 * enters a user namespace where that uid is INSIDE_UID; node runs exec-daemon.mjs, which runs
 * each exec and bridges the sandbox's loopback proxy port to the host proxy socket.
 */
export class BwrapSession {
  readonly proc: ChildProcess;
  private readonly pending = new Map<number, Pending>();
  private nextId = 1;
  private exited = false;
  private readonly exitPromise: Promise<void>;
  private readonly ready: Promise<void>;
  private stderrTail: string[] = [];

  constructor(private readonly o: SessionOptions) {
    const { layout, hostUid, limits, cgroup } = o;
    const proxyUrl = `http://127.0.0.1:${PROXY_PORT_INSIDE}`;
    const env: Record<string, string> = {
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
      BULKHEAD_PROXY_SOCKET: PROXY_SOCKET_INSIDE,
      BULKHEAD_PROXY_PORT: String(PROXY_PORT_INSIDE),
    };
    const bwrap = [
      BWRAP,
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
      ...Object.entries(env).flatMap(([k, v]) => ['--setenv', k, v]),
      ...mountArgs(layout),
      '--chdir',
      layout.workDir,
      // Not root (a developer's machine): bwrap itself is unprivileged and makes the user namespace;
      // the sandbox then runs as the caller's own uid.
      ...(RUN_AS_ROOT ? [] : ['--unshare-user', '--uid', String(INSIDE_UID), '--gid', String(INSIDE_UID), '--cap-drop', 'ALL']),
      '--',
      ...(RUN_AS_ROOT
        ? ['setpriv', '--reuid', String(hostUid), '--regid', String(hostUid), '--clear-groups', '--inh-caps=-all', '--bounding-set=-all', '--no-new-privs', '--']
        : []),
      'prlimit',
      ...rlimitArgs(limits, cgroup !== null, RUN_AS_ROOT),
      '--',
      ...(RUN_AS_ROOT && usernsAvailable() ? ['unshare', '--user', `--map-user=${INSIDE_UID}`, `--map-group=${INSIDE_UID}`, '--'] : []),
      SANDBOX_NODE,
      layout.daemonPath,
    ];
    // With cgroups, a shell puts itself in the sandbox's cgroups and then becomes bwrap, so every
    // process of the sandbox is born inside them.
    const argv = cgroup ? ['/bin/sh', '-c', 'for f in $BH_CGROUP_PROCS; do echo $$ > "$f" || exit 125; done; exec "$@"', 'sh', ...bwrap] : bwrap;
    this.proc = spawn(argv[0]!, argv.slice(1), {
      // The worker's environment (its secrets) stays out: bwrap clears it anyway.
      env: { PATH: '/usr/bin:/bin', BH_CGROUP_PROCS: cgroup?.procsFiles.join(' ') ?? '' },
      stdio: ['pipe', 'pipe', 'pipe'],
      // Its own process group, so delete can signal bwrap and everything under it at once.
      detached: true,
    });
    this.proc.stdin!.on('error', () => {});
    this.exitPromise = new Promise((resolve) => this.proc.once('exit', () => resolve()));
    this.proc.once('exit', (code, sig) => this.onExit(code, sig));

    let readyResolve!: () => void;
    let readyReject!: (e: Error) => void;
    this.ready = new Promise((res, rej) => {
      readyResolve = res;
      readyReject = rej;
    });
    this.ready.catch(() => {});
    const readyTimer = setTimeout(() => readyReject(this.failure(`sandbox did not start within ${READY_TIMEOUT_MS} ms`)), READY_TIMEOUT_MS);
    this.proc.once('exit', () => {
      clearTimeout(readyTimer);
      readyReject(this.failure('bwrap exited before the sandbox was ready'));
    });
    this.proc.once('error', (e) => readyReject(this.failure(`cannot start bwrap: ${e.message}`)));

    createInterface({ input: this.proc.stdout! }).on('line', (line) => {
      let msg: { ready?: boolean; id?: number; stderrChunk?: string; signal?: string | null } & Partial<ExecResult>;
      try {
        msg = JSON.parse(line);
      } catch {
        return;
      }
      if (msg.ready) {
        clearTimeout(readyTimer);
        readyResolve();
        return;
      }
      const p = msg.id === undefined ? undefined : this.pending.get(msg.id);
      if (!p) return;
      if (typeof msg.stderrChunk === 'string') {
        p.onStderr?.(msg.stderrChunk);
        return;
      }
      this.pending.delete(msg.id!);
      p.resolve({ exitCode: msg.exitCode ?? 1, stdout: msg.stdout ?? '', stderr: msg.stderr ?? '', timedOut: !!msg.timedOut, signal: msg.signal ?? null });
    });
    // The daemon's own stderr goes to /dev/null inside (see exec-daemon); what arrives here is
    // bwrap's, setpriv's or prlimit's: kept for the create failure message.
    createInterface({ input: this.proc.stderr! }).on('line', (line) => {
      this.stderrTail.push(line);
      if (this.stderrTail.length > 20) this.stderrTail.shift();
    });
  }

  get pid(): number {
    return this.proc.pid!;
  }

  get alive(): boolean {
    return !this.exited;
  }

  whenReady(): Promise<void> {
    return this.ready;
  }

  whenExited(): Promise<void> {
    return this.exitPromise;
  }

  exec(argv: string[], opts: ExecOptions = {}): Promise<DaemonResult> {
    if (this.exited) return Promise.reject(new SandboxError('sandbox process has exited', 'SandboxLost', false));
    const id = this.nextId++;
    return new Promise<DaemonResult>((resolve, reject) => {
      const signal = opts.signal;
      const onAbort = () => {
        this.send({ id, kill: true });
        this.pending.delete(id);
        const e = new Error('exec aborted');
        e.name = 'AbortError';
        reject(signal?.reason instanceof Error ? signal.reason : e);
      };
      if (signal?.aborted) return onAbort();
      signal?.addEventListener('abort', onAbort, { once: true });
      const done = <T>(f: (v: T) => void) => (v: T) => {
        signal?.removeEventListener('abort', onAbort);
        f(v);
      };
      this.pending.set(id, { resolve: done(resolve), reject: done(reject), onStderr: opts.onStderr });
      this.send({ id, argv, env: opts.env ?? {}, stdin: opts.stdin ?? '', timeoutMs: opts.timeoutMs ?? 0, cwd: this.o.layout.workDir });
    });
  }

  /** Closing the daemon's stdin makes it kill its commands and exit; bwrap exits with it. */
  closeInput(): void {
    this.proc.stdin!.end();
  }

  private send(msg: unknown): void {
    if (!this.exited) this.proc.stdin!.write(JSON.stringify(msg) + '\n');
  }

  private failure(message: string): SandboxError {
    const tail = this.stderrTail.join('\n');
    return new SandboxError(tail ? `${message}: ${tail}` : message, 'SandboxCreateFailed', true);
  }

  private onExit(code: number | null, sig: NodeJS.Signals | null): void {
    this.exited = true;
    const e = new SandboxError(`sandbox process exited (${sig ?? code})`, 'SandboxLost', false);
    for (const p of this.pending.values()) p.reject(e);
    this.pending.clear();
  }
}

/** A limit an exec's own exit shows (a CPU-time kill); memory and processes come from cgroup counters. */
export function limitFromSignal(signal: string | null | undefined): LimitKind | null {
  return signal === 'SIGXCPU' ? 'cpu' : null;
}
