import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { appendFileSync } from 'node:fs';
import { createInterface } from 'node:readline';
import type { Writable } from 'node:stream';
import { SandboxError, type ExecOptions, type ExecResult } from '../driver';
import { DenialParser } from './denials';
import { SRT_CLI, type SrtSettings } from './settings';
import type { StatePaths } from './state';

const NODE = process.env.BULKHEAD_SANDBOX_NODE ?? '/usr/bin/node';
const READY_TIMEOUT_MS = 15_000;
const POLICY_TIMEOUT_MS = 5_000;

interface Pending {
  resolve: (r: ExecResult) => void;
  reject: (e: Error) => void;
  onStderr?: (chunk: string) => void;
}

interface PolicyWait {
  nonce: string;
  seen: boolean;
  resolve: () => void;
  reject: (e: Error) => void;
}

/**
 * One long-lived srt process per sandbox. srt owns the proxy (policy is per srt process) and wraps
 * exec-daemon.mjs in bubblewrap; the daemon runs each exec inside, so an exec costs a spawn, not
 * a new srt. srt runs with --debug: its stderr carries the proxy's refusals and acknowledges each
 * control-fd update.
 */
export class SrtSession {
  readonly proc: ChildProcess;
  private readonly control: Writable;
  private readonly pending = new Map<number, Pending>();
  private nextId = 1;
  private policyWait: PolicyWait | null = null;
  private policyChain: Promise<void> = Promise.resolve();
  private exited = false;
  private readonly exitPromise: Promise<void>;
  private readonly ready: Promise<void>;
  private stderrTail: string[] = [];

  constructor(private readonly paths: StatePaths) {
    this.proc = spawn(
      NODE,
      [
        SRT_CLI,
        '--debug',
        '--settings',
        paths.settings,
        '--control-fd',
        '3',
        '--',
        // fd 2 of the daemon is srt's stderr; pointing it at /dev/null keeps sandboxed code from
        // writing lines there that would read as srt's own (denials, policy acknowledgements).
        '/bin/sh',
        '-c',
        `exec ${NODE} "$0" 2>/dev/null`,
        paths.daemon,
      ],
      {
        // srt deny-lists dotfiles in its cwd; the state dir is read-only inside, so none get made.
        cwd: paths.dir,
        // The worker's environment (its secrets) stays out: per-exec env travels in each request.
        env: {
          PATH: '/usr/bin:/bin',
          HOME: paths.work,
          LANG: process.env.LANG ?? 'C.UTF-8',
          TMPDIR: paths.tmp,
          CLAUDE_CODE_TMPDIR: '/tmp',
        },
        stdio: ['pipe', 'pipe', 'pipe', 'pipe'],
        // Its own process group, so delete can take srt and its host-side socat bridges at once.
        detached: true,
      },
    );
    this.control = this.proc.stdio[3] as Writable;
    this.control.on('error', () => {});
    this.proc.stdin!.on('error', () => {});
    this.exitPromise = new Promise((resolve) => this.proc.once('exit', () => resolve()));
    this.proc.once('exit', (code, sig) => this.onExit(code, sig));

    let readyResolve!: () => void;
    let readyReject!: (e: Error) => void;
    this.ready = new Promise((res, rej) => {
      readyResolve = res;
      readyReject = rej;
    });
    const readyTimer = setTimeout(() => readyReject(this.failure(`sandbox did not start within ${READY_TIMEOUT_MS} ms`)), READY_TIMEOUT_MS);
    this.proc.once('exit', () => readyReject(this.failure('srt exited before the sandbox was ready')));
    this.proc.once('error', (e) => readyReject(this.failure(`cannot start srt: ${e.message}`)));

    createInterface({ input: this.proc.stdout! }).on('line', (line) => {
      let msg: { ready?: boolean; id?: number; stderrChunk?: string } & Partial<ExecResult>;
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
      p.resolve({ exitCode: msg.exitCode ?? 1, stdout: msg.stdout ?? '', stderr: msg.stderr ?? '', timedOut: !!msg.timedOut });
    });

    const denials = new DenialParser();
    createInterface({ input: this.proc.stderr! }).on('line', (line) => {
      this.stderrTail.push(line);
      if (this.stderrTail.length > 20) this.stderrTail.shift();
      const d = denials.parse(line);
      if (d) appendFileSync(this.paths.denials, JSON.stringify(d) + '\n');
      this.onPolicyLine(line);
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

  exec(argv: string[], opts: ExecOptions = {}): Promise<ExecResult> {
    if (this.exited) return Promise.reject(new SandboxError('sandbox process has exited', 'SandboxLost', false));
    const id = this.nextId++;
    return new Promise<ExecResult>((resolve, reject) => {
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
      this.send({ id, argv, env: opts.env ?? {}, stdin: opts.stdin ?? '', timeoutMs: opts.timeoutMs ?? 0, cwd: this.paths.work });
    });
  }

  /**
   * Writes the whole settings as one line on the control fd and resolves when srt logs that it
   * loaded exactly that line. A nonce in deniedDomains (a name under .invalid, which cannot
   * resolve) identifies the line, so neither an earlier update nor anything else on stderr can
   * stand in for the acknowledgement.
   */
  applySettings(settings: SrtSettings): Promise<void> {
    const run = () => this.applyOnce(settings);
    const p = this.policyChain.then(run, run);
    this.policyChain = p.catch(() => {});
    return p;
  }

  private applyOnce(settings: SrtSettings): Promise<void> {
    if (this.exited) return Promise.reject(new SandboxError('sandbox process has exited', 'SandboxLost', false));
    const nonce = `policy-${randomBytes(8).toString('hex')}.bulkhead.invalid`;
    const line = { ...settings, network: { ...settings.network, deniedDomains: [...settings.network.deniedDomains, nonce] } };
    return new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.policyWait = null;
        reject(new SandboxError(`srt did not acknowledge the policy within ${POLICY_TIMEOUT_MS} ms`, 'PolicyRejected', true));
      }, POLICY_TIMEOUT_MS);
      this.policyWait = {
        nonce,
        seen: false,
        resolve: () => {
          clearTimeout(timer);
          resolve();
        },
        reject: (e) => {
          clearTimeout(timer);
          reject(e);
        },
      };
      this.control.write(JSON.stringify(line) + '\n');
    });
  }

  private onPolicyLine(line: string): void {
    const w = this.policyWait;
    if (!w) return;
    if (line.startsWith('[SandboxDebug] Config updated from control fd:') && line.includes(w.nonce)) {
      w.seen = true;
    } else if (w.seen && line.startsWith('[SandboxDebug] Sandbox configuration updated')) {
      this.policyWait = null;
      w.resolve();
    } else if (line.startsWith('Invalid config on control fd')) {
      this.policyWait = null;
      w.reject(new SandboxError('srt rejected the policy as an invalid config', 'PolicyRejected', false));
    }
  }

  /** Closing the daemon's stdin makes it kill its commands and exit; srt exits with it. */
  closeInput(): void {
    this.proc.stdin!.end();
  }

  private send(msg: unknown): void {
    if (!this.exited) this.proc.stdin!.write(JSON.stringify(msg) + '\n');
  }

  private failure(message: string): SandboxError {
    const tail = this.stderrTail.filter((l) => !l.startsWith('[SandboxDebug]')).join('\n');
    return new SandboxError(tail ? `${message}: ${tail}` : message, 'SandboxCreateFailed', true);
  }

  private onExit(code: number | null, sig: NodeJS.Signals | null): void {
    this.exited = true;
    const e = new SandboxError(`sandbox process exited (${sig ?? code})`, 'SandboxLost', false);
    for (const p of this.pending.values()) p.reject(e);
    this.pending.clear();
    this.policyWait?.reject(e);
    this.policyWait = null;
  }
}
