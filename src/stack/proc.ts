import { spawn, type ChildProcess } from 'node:child_process';
import { accessSync, constants } from 'node:fs';

export interface Supervised {
  readonly child: ChildProcess;
  readonly pid: number;
  /** Resolves when the process has exited, whoever ended it. */
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** Last lines of output, for error messages when the process dies early. */
  tail(): string;
  /** SIGTERM, then SIGKILL after graceMs; resolves once the process is gone. Idempotent. */
  stop(graceMs?: number): Promise<void>;
}

export interface SuperviseOptions {
  log?: (line: string) => void;
  env?: NodeJS.ProcessEnv;
  cwd?: string;
}

const live = new Set<ChildProcess>();
let exitHookInstalled = false;

/** Last resort for a parent that exits without calling stop(): only sync work is possible here. */
function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.on('exit', () => {
    for (const c of live) c.kill('SIGKILL');
  });
}

const SETPRIV = '/usr/bin/setpriv';
let setprivOk: boolean | undefined;
function hasSetpriv(): boolean {
  if (setprivOk === undefined) {
    try {
      accessSync(SETPRIV, constants.X_OK);
      setprivOk = true;
    } catch {
      setprivOk = false;
    }
  }
  return setprivOk;
}

/**
 * Spawns a long-running helper (dev server, Prometheus) that must not outlive us.
 * setpriv (util-linux, always on Debian) sets PR_SET_PDEATHSIG and then execs, so the kernel
 * sends SIGTERM to the helper even if this process is SIGKILLed and no exit hook can run.
 * Signals are ours to forward: the helper does not share our process group.
 */
export function supervise(bin: string, args: string[], opts: SuperviseOptions = {}): Supervised {
  const [cmd, argv] = hasSetpriv() ? [SETPRIV, ['--pdeathsig', 'SIGTERM', '--', bin, ...args]] : [bin, args];
  const child = spawn(cmd, argv, {
    // Its own process group: a terminal's Ctrl-C (sent to the whole foreground group) must not
    // kill the dev server before the cancelled investigation's deletes have gone through it.
    // PDEATHSIG and the exit hook still end it with us.
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
    env: opts.env ?? process.env,
    cwd: opts.cwd,
  });
  installExitHook();
  live.add(child);

  const lines: string[] = [];
  const onLine = (line: string) => {
    if (!line) return;
    lines.push(line);
    if (lines.length > 40) lines.shift();
    opts.log?.(line);
  };
  for (const stream of [child.stdout!, child.stderr!]) {
    let buf = '';
    stream.setEncoding('utf8');
    stream.on('data', (chunk: string) => {
      buf += chunk;
      const parts = buf.split('\n');
      buf = parts.pop()!;
      parts.forEach(onLine);
    });
    stream.on('end', () => onLine(buf));
  }

  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    const done = (code: number | null, signal: NodeJS.Signals | null) => {
      live.delete(child);
      resolve({ code, signal });
    };
    child.once('exit', done);
    // spawn failures (ENOENT, EACCES) emit 'error' and never 'exit'.
    child.once('error', (err) => {
      onLine(`spawn ${bin}: ${err.message}`);
      done(null, null);
    });
  });

  let stopping: Promise<void> | undefined;
  const stop = (graceMs = 5000): Promise<void> => {
    stopping ??= (async () => {
      if (child.exitCode !== null || child.signalCode !== null || !live.has(child)) return;
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
      await exited;
      clearTimeout(timer);
    })();
    return stopping;
  };

  return { child, pid: child.pid ?? -1, exited, tail: () => lines.join('\n'), stop };
}

/** Polls check() until it returns true, the process dies, or the deadline passes. */
export async function waitReady(
  what: string,
  proc: Supervised,
  check: () => Promise<boolean>,
  timeoutMs: number,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let died = false;
  void proc.exited.then(() => (died = true));
  for (let delay = 50; ; delay = Math.min(delay * 2, 500)) {
    if (died) throw new Error(`${what} exited before it was ready:\n${proc.tail()}`);
    if (await check().catch(() => false)) return;
    if (Date.now() > deadline) {
      await proc.stop();
      throw new Error(`${what} not ready after ${timeoutMs} ms:\n${proc.tail()}`);
    }
    await new Promise((r) => setTimeout(r, delay));
  }
}
