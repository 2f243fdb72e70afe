import { copyFile, mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { ResolvedPolicy } from '../schemas/policy';
import { SandboxError, type Denial, type ExecOptions, type ExecResult, type SandboxDriver, type SandboxInfo, type SandboxSpec } from './driver';
import { isSrtFor, processesMentioning, signal, waitGone } from './local/proc';
import { allowedDomainsFor, buildSettings, filesystemRules, type SrtSettings } from './local/settings';
import { SrtSession } from './local/srt-session';
import { listDirs, readMeta, statePaths, statePathsIn, writeJsonAtomic, type SandboxMeta, type StatePaths } from './local/state';

export const DEFAULT_SANDBOX_ROOT = '/tmp/bulkhead-sandboxes';
const DAEMON_SRC = path.join(import.meta.dirname, 'local', 'exec-daemon.mjs');
const KILL_GRACE_MS = 2_000;

interface Live {
  session: SrtSession;
  paths: StatePaths;
  fs: SrtSettings['filesystem'];
  readOnly: string[];
}

/**
 * The embedded driver: one srt (bubblewrap + filtering proxy) process per sandbox, controlled by
 * the driver instance that created it. A sandbox on disk that this instance does not hold (its
 * worker crashed) is "lost": exec refuses it, delete and the reaper clean it up.
 */
export class LocalDriver implements SandboxDriver {
  readonly kind = 'local' as const;
  readonly limitations = [
    'per-binary network rules are not enforced by the local driver: every process in the sandbox may use an allowed endpoint',
    'endpoint protocol/access/enforcement levels are not enforced (host:port only; audit endpoints are enforced)',
    'traffic must go through the HTTP(S)_PROXY given inside the sandbox; direct connections fail (no network interfaces)',
    'read-denied host directories appear inside as empty private tmpfs (writable, discarded with the sandbox)',
    'denials carry no binary (the proxy cannot tell which process asked)',
  ];
  readonly root: string;
  private readonly live = new Map<string, Live>();
  private readonly creating = new Map<string, Promise<string>>();

  constructor(opts: { root?: string } = {}) {
    this.root = path.resolve(opts.root ?? DEFAULT_SANDBOX_ROOT);
  }

  create(spec: SandboxSpec): Promise<string> {
    // Concurrent creates of one id share the attempt rather than racing on the directory.
    const inflight = this.creating.get(spec.id);
    if (inflight) return inflight;
    const p = this.doCreate(spec).finally(() => this.creating.delete(spec.id));
    this.creating.set(spec.id, p);
    return p;
  }

  private async doCreate(spec: SandboxSpec): Promise<string> {
    const held = this.live.get(spec.id);
    if (held?.session.alive) return spec.id;
    // Anything else under this id is stale (a crashed worker's, or a half-made one): a retried
    // create gets a fresh sandbox rather than an error, since nothing can drive the old one.
    await this.delete(spec.id);

    const paths = statePaths(this.root, spec.id);
    const readOnly = spec.readOnly.map((p) => path.resolve(p));
    const fs = filesystemRules({ stateDir: paths.dir, workDir: paths.work, daemonPath: paths.daemon, tmpDir: paths.tmp, sandboxRoot: this.root, readOnly });
    try {
      await mkdir(paths.work, { recursive: true, mode: 0o700 });
      await mkdir(paths.tmp, { mode: 0o700 });
      await copyFile(DAEMON_SRC, paths.daemon);
      await writeFile(paths.denials, '');
      await writeJsonAtomic(paths.settings, buildSettings(fs));
    } catch (e) {
      await rm(paths.dir, { recursive: true, force: true });
      throw new SandboxError(`cannot prepare sandbox ${spec.id}: ${(e as Error).message}`, 'SandboxCreateFailed', true);
    }
    const session = new SrtSession(paths);
    const meta: SandboxMeta = {
      id: spec.id,
      owner: spec.owner,
      agent: spec.agent,
      createdAt: new Date().toISOString(),
      pid: session.pid,
      pgid: session.pid,
      controllerPid: process.pid,
      labels: spec.labels ?? {},
    };
    this.live.set(spec.id, { session, paths, fs, readOnly });
    try {
      await writeJsonAtomic(paths.meta, meta);
      await session.whenReady();
    } catch (e) {
      await this.delete(spec.id);
      throw e instanceof SandboxError ? e : new SandboxError(`cannot create sandbox ${spec.id}: ${(e as Error).message}`, 'SandboxCreateFailed', true);
    }
    return spec.id;
  }

  async exec(id: string, argv: string[], opts?: ExecOptions): Promise<ExecResult> {
    return (await this.held(id)).session.exec(argv, opts);
  }

  async upload(id: string, localPath: string, dest: string): Promise<void> {
    const { paths } = await this.held(id);
    const target = path.resolve(paths.work, dest);
    if (target !== paths.work && !target.startsWith(paths.work + path.sep)) {
      throw new SandboxError(`upload destination ${dest} escapes the sandbox workdir`, 'PolicyRejected', false);
    }
    await mkdir(path.dirname(target), { recursive: true });
    await copyFile(localPath, target);
  }

  async applyPolicy(id: string, policy: ResolvedPolicy): Promise<void> {
    const live = await this.held(id);
    // Mounts are compiled into the sandbox at creation; a policy asking for more cannot be honoured live.
    const missing = policy.readOnly.map((p) => path.resolve(p)).filter((p) => !live.readOnly.includes(p));
    if (missing.length) {
      throw new SandboxError(`policy mounts ${missing.join(', ')} that the sandbox was not created with`, 'PolicyRejected', false);
    }
    const settings = buildSettings(live.fs, allowedDomainsFor(policy));
    await writeJsonAtomic(live.paths.settings, settings);
    await live.session.applySettings(settings);
  }

  async delete(id: string): Promise<void> {
    const paths = statePaths(this.root, id);
    const live = this.live.get(id);
    this.live.delete(id);
    const meta = await readMeta(paths.meta);
    const pid = live?.session.pid ?? meta?.pid;
    if (pid && (live?.session.alive || (await isSrtFor(pid, paths.settings)))) {
      // Closing the daemon's input lets the sandbox wind down by itself; the signals are for a
      // sandbox that will not (or one another process controls).
      live?.session.closeInput();
      signal(-pid, 'SIGTERM');
      if (!(await waitGone([pid], KILL_GRACE_MS))) signal(-pid, 'SIGKILL');
      if (live) await live.session.whenExited();
      else await waitGone([pid], KILL_GRACE_MS);
    }
    // bwrap runs in its own session and dies with its parent; anything of this sandbox still
    // running (a sandbox half torn down by a crash) is found by the paths in its argv.
    const strays = await processesMentioning(paths.dir + '/');
    if (strays.length) {
      strays.forEach((p) => signal(p, 'SIGKILL'));
      await waitGone(strays, KILL_GRACE_MS);
    }
    await rm(paths.dir, { recursive: true, force: true });
  }

  async list(): Promise<SandboxInfo[]> {
    const out: SandboxInfo[] = [];
    for (const dir of await listDirs(this.root)) {
      const paths = statePathsIn(dir);
      const meta = await readMeta(paths.meta);
      // isSrtFor also checks that the pid is running (and not a zombie).
      const alive = !!meta && (await isSrtFor(meta.pid, paths.settings));
      out.push({
        id: meta?.id ?? path.basename(dir),
        owner: meta?.owner ?? null,
        agent: meta?.agent ?? null,
        createdAt: meta?.createdAt ?? null,
        alive,
        labels: meta?.labels ?? {},
      });
    }
    return out;
  }

  async denials(id: string): Promise<Denial[]> {
    let text: string;
    try {
      text = await readFile(statePaths(this.root, id).denials, 'utf8');
    } catch {
      return [];
    }
    return text
      .split('\n')
      .filter(Boolean)
      .flatMap((l) => {
        try {
          return [JSON.parse(l) as Denial];
        } catch {
          return [];
        }
      });
  }

  /** Tears down every sandbox this instance holds (worker shutdown). */
  async close(): Promise<void> {
    await Promise.all([...this.live.keys()].map((id) => this.delete(id)));
  }

  private async held(id: string): Promise<Live> {
    const live = this.live.get(id);
    if (live?.session.alive) return live;
    const meta = await readMeta(statePaths(this.root, id).meta);
    if (!meta) this.live.delete(id);
    if (!meta) throw new SandboxError(`sandbox ${id} does not exist`, 'SandboxMissing', false);
    throw new SandboxError(`sandbox ${id} is no longer controlled by this worker`, 'SandboxLost', false);
  }
}
