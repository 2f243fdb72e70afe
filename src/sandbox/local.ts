import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { chown, copyFile, mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { ResolvedPolicy } from '../schemas/policy';
import { loadPolicy } from './policy';
import { SandboxError, type Denial, type ExecOptions, type ExecResult, type SandboxDriver, type SandboxInfo, type SandboxSpec } from './driver';
import { limitFromSignal, RUN_AS_ROOT, SANDBOX_NODE, SandboxRunner, usernsAvailable } from './local/runner';
import { allowedEndpoints, EgressProxy } from './local/egress-proxy';
import { cgroupMode, cgroupPids, limitFromStderr, limitMessage, limitsFromEnv, rmdirWhenEmpty, SandboxCgroup, type LimitCounters, type LimitKind, type Limits } from './local/limits';
import type { Layout } from './local/layout';
import { isController, processesMentioning, processesOfUid, signal, startTime, waitGone } from './local/proc';
import { listDirs, readMeta, statePaths, statePathsIn, writeJsonAtomic, type SandboxMeta, type StatePaths } from './local/state';

export const DEFAULT_SANDBOX_ROOT = '/tmp/bulkhead-sandboxes';
const KILL_GRACE_MS = 2_000;
/** Sandbox host uids are drawn from this range, one per sandbox, used by nothing else on the host. */
const UID_BASE = Number(process.env.BULKHEAD_SANDBOX_UID_BASE ?? 1_900_000_000);
const UID_SPAN = 100_000_000;

interface Live {
  runner: SandboxRunner;
  proxy: EgressProxy;
  paths: StatePaths;
  readOnly: string[];
  hostUid: number;
  cgroup: SandboxCgroup | null;
  limits: Limits;
  counters: LimitCounters;
}

/**
 * The embedded driver: a bubblewrap sandbox per id (a fresh one per exec over the same workdir and
 * identity, local/runner.ts), its filesystem allowed by name
 * (local/layout.ts), running as its own unprivileged host uid in a user namespace with no
 * capabilities, limited in memory, processes and CPU time, its only way out an egress proxy in
 * this process (local/egress-proxy.ts) that enforces the live policy and logs refusals. A sandbox
 * on disk that this instance does not hold (its worker crashed) is "lost": exec refuses it,
 * delete and the reaper clean it up.
 */
export class LocalDriver implements SandboxDriver {
  readonly kind = 'local' as const;
  readonly limitations: string[];
  readonly root: string;
  readonly limits: Limits;
  private readonly live = new Map<string, Live>();
  private readonly creating = new Map<string, Promise<string>>();

  private readonly cgroups: boolean;

  private readonly explicitLimits: Partial<Limits>;
  private readonly policyDir: string | undefined;

  /**
   * Limits: `limits` here, else the agent's policy (`limits.memory_mb`, `processes`,
   * `cpu_seconds`), else the environment, else the defaults. `cgroups: false` forces the rlimit
   * fallback (what a host without writable cgroups gets).
   */
  private readonly bwrap: string | undefined;

  constructor(opts: { root?: string; limits?: Partial<Limits>; cgroups?: boolean; policyDir?: string; bwrap?: string } = {}) {
    this.root = path.resolve(opts.root ?? DEFAULT_SANDBOX_ROOT);
    this.bwrap = opts.bwrap;
    this.limits = { ...limitsFromEnv(), ...opts.limits };
    this.explicitLimits = opts.limits ?? {};
    this.policyDir = opts.policyDir;
    const cg: ReturnType<typeof cgroupMode> = opts.cgroups === false ? { kind: 'none', why: 'cgroups turned off for this driver' } : cgroupMode();
    this.cgroups = cg.kind !== 'none';
    this.limitations = [
      'per-binary network rules are not enforced by the local driver: every process in the sandbox may use an allowed endpoint',
      'endpoint protocol/access/enforcement levels are not enforced (host:port only; audit endpoints are enforced)',
      'traffic must go through the HTTP(S)_PROXY given inside the sandbox; direct connections fail (loopback only, no other interfaces)',
      'denials carry no binary (the proxy cannot tell which process asked)',
      cg.kind === 'none'
        ? `limits are rlimits (${cg.why}): processes per sandbox uid, memory per process (data segment), CPU time per process`
        : `limits: memory and processes per sandbox (cgroup ${cg.kind}), CPU time per process (rlimit)`,
      ...(usernsAvailable() ? [] : ['no user namespace on this host: the sandbox runs as its own unprivileged host uid, not renamed inside']),
      ...(RUN_AS_ROOT ? [] : ['the worker is not root: sandboxes run as its own uid (in a user namespace), not each as a uid of its own, and without cgroups there is no process limit']),
    ];
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
    if (held && existsSync(held.paths.meta)) return spec.id;
    // Anything else under this id is stale (a crashed worker's, or a half-made one): a retried
    // create gets a fresh sandbox rather than an error, since nothing can drive the old one.
    await this.delete(spec.id);

    const paths = statePaths(this.root, spec.id);
    const readOnly = spec.readOnly.map((p) => path.resolve(p));
    const hostUid = RUN_AS_ROOT ? UID_BASE + (parseInt(createHash('sha256').update(paths.dir).digest('hex').slice(0, 8), 16) % UID_SPAN) : process.getuid!();
    const layout: Layout = { workDir: paths.work, proxyDir: paths.proxyDir, readOnly, node: SANDBOX_NODE };
    const limits = await this.limitsFor(spec.agent);
    const proxy = new EgressProxy(paths.proxySocket, paths.denials);
    let cgroup: SandboxCgroup | null = null;
    try {
      await mkdir(this.root, { recursive: true, mode: 0o700 });
      await mkdir(paths.dir, { mode: 0o700 });
      await mkdir(paths.work, { mode: 0o700 });
      // The workdir is the sandbox uid's; everything else in the state dir stays root's.
      if (RUN_AS_ROOT) await chown(paths.work, hostUid, hostUid);
      await mkdir(paths.proxyDir, { mode: 0o755 });
      await writeFile(paths.denials, '');
      await proxy.listen();
      cgroup = this.cgroups ? SandboxCgroup.create(paths.dir, limits) : null;
    } catch (e) {
      proxy.close();
      await rm(paths.dir, { recursive: true, force: true });
      throw new SandboxError(`cannot prepare sandbox ${spec.id}: ${(e as Error).message}`, 'SandboxCreateFailed', true);
    }
    const runner = new SandboxRunner({ layout, hostUid, limits, cgroup, bwrap: this.bwrap });
    const meta: SandboxMeta = {
      id: spec.id,
      owner: spec.owner,
      agent: spec.agent,
      createdAt: new Date().toISOString(),
      pid: process.pid,
      controllerPid: process.pid,
      controllerStart: (await startTime(process.pid)) ?? undefined,
      hostUid,
      ...(cgroup ? { cgroups: cgroup.dirs } : {}),
      labels: spec.labels ?? {},
    };
    try {
      await writeJsonAtomic(paths.meta, meta);
    } catch (e) {
      proxy.close();
      cgroup?.remove();
      await rm(paths.dir, { recursive: true, force: true });
      throw new SandboxError(`cannot create sandbox ${spec.id}: ${(e as Error).message}`, 'SandboxCreateFailed', true);
    }
    this.live.set(spec.id, { runner, proxy, paths, readOnly, hostUid, cgroup, limits, counters: cgroup?.counters() ?? { memory: 0, processes: 0 } });
    return spec.id;
  }

  async exec(id: string, argv: string[], opts?: ExecOptions): Promise<ExecResult> {
    const live = await this.held(id);
    const { signal: sig, ...r } = await live.runner.exec(argv, opts);
    // Counters only grow: any increase during this exec is this sandbox hitting its limit.
    const now = live.cgroup?.counters();
    let kind: LimitKind | null = limitFromSignal(sig);
    if (now && now.memory > live.counters.memory) kind = 'memory';
    else if (now && now.processes > live.counters.processes) kind = kind ?? 'processes';
    if (now) live.counters = now;
    // Without cgroups there are no counters: the failed command's own words are the evidence.
    if (!live.cgroup && !kind && r.exitCode !== 0) kind = limitFromStderr(r.stderr);
    if (!kind) return r;
    const message = limitMessage(kind, live.limits);
    return { ...r, exitCode: r.exitCode === 0 ? 1 : r.exitCode, stderr: `${r.stderr}${r.stderr.endsWith('\n') || !r.stderr ? '' : '\n'}bulkhead: ${message}\n`, limit: { kind, message } };
  }

  async upload(id: string, localPath: string, dest: string): Promise<void> {
    const { paths, hostUid } = await this.held(id);
    const target = path.resolve(paths.work, dest);
    if (target !== paths.work && !target.startsWith(paths.work + path.sep)) {
      throw new SandboxError(`upload destination ${dest} escapes the sandbox workdir`, 'PolicyRejected', false);
    }
    // Made by root here, so handed to the sandbox's uid like the rest of its workdir.
    const made = await mkdir(path.dirname(target), { recursive: true });
    if (made) {
      for (let d = path.dirname(target); RUN_AS_ROOT && d.length >= made.length && d !== paths.work; d = path.dirname(d)) await chown(d, hostUid, hostUid);
    }
    await copyFile(localPath, target);
    if (RUN_AS_ROOT) await chown(target, hostUid, hostUid);
  }

  async applyPolicy(id: string, policy: ResolvedPolicy): Promise<void> {
    const live = await this.held(id);
    // Mounts are made at creation; a policy asking for more cannot be honoured live.
    const missing = policy.readOnly.map((p) => path.resolve(p)).filter((p) => !live.readOnly.includes(p));
    if (missing.length) {
      throw new SandboxError(`policy mounts ${missing.join(', ')} that the sandbox was not created with`, 'PolicyRejected', false);
    }
    live.proxy.setAllowed(allowedEndpoints(policy));
  }

  async delete(id: string): Promise<void> {
    const paths = statePaths(this.root, id);
    const live = this.live.get(id);
    this.live.delete(id);
    const meta = await readMeta(paths.meta);
    // No process outlives its exec: what may still run here are execs in flight (this worker's,
    // or a crashed one's), and whatever they started.
    live?.proxy.close();
    // Anything of this sandbox still running (escaped its process group, or half torn down by a
    // crash) sits in its cgroup, runs as its uid, or names its paths in its argv. The cgroup is
    // the cheap, exact answer; the /proc scans are for hosts without one, and for strangers'.
    const uid = RUN_AS_ROOT ? (live?.hostUid ?? meta?.hostUid) : undefined;
    const strays = new Set(live?.cgroup ? live.cgroup.pids() : []);
    if (!live?.cgroup) {
      for (const p of meta?.cgroups ? cgroupPids(meta.cgroups) : []) strays.add(p);
      for (const p of uid ? await processesOfUid(uid) : []) strays.add(p);
      for (const p of await processesMentioning(paths.dir + '/')) strays.add(p);
    }
    if (strays.size) {
      strays.forEach((p) => signal(p, 'SIGKILL'));
      await waitGone([...strays], KILL_GRACE_MS);
    }
    await live?.cgroup?.removeWhenEmpty();
    if (!live && meta?.cgroups) await Promise.all(meta.cgroups.map((d) => rmdirWhenEmpty(d)));
    await rm(paths.dir, { recursive: true, force: true });
  }

  async list(): Promise<SandboxInfo[]> {
    const out: SandboxInfo[] = [];
    for (const dir of await listDirs(this.root)) {
      const paths = statePathsIn(dir);
      const meta = await readMeta(paths.meta);
      // Alive while its controller (which holds its proxy) runs: isController also checks that the
      // pid was not recycled.
      const alive = !!meta && (this.live.has(meta.id) || (await isController(meta.controllerPid, meta.controllerStart)));
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

  /**
   * Worker start-up: one throwaway sandbox runs /bin/true, so a host where bubblewrap cannot make
   * its namespaces (a container without the privilege, a missing package) is refused at start,
   * naming the cause, rather than sandbox by sandbox. socat is checked too: without it a sandbox
   * would start with no way out at all.
   */
  async preflight(): Promise<void> {
    if (!['/usr/bin/socat', '/bin/socat'].some((p) => existsSync(p))) {
      throw new SandboxError('socat is not installed (/usr/bin/socat): sandboxes could not reach their proxy; install the Debian package socat', 'DriverUnavailable', false);
    }
    const id = `preflight-${process.pid}-${Date.now().toString(36)}`;
    try {
      await this.create({ id, agent: 'metrics_agent', owner: 'preflight', readOnly: [] });
      const r = await this.exec(id, ['/bin/true'], { timeoutMs: 30_000 });
      if (r.exitCode !== 0) {
        throw new SandboxError(`a bubblewrap sandbox cannot start here (exit ${r.exitCode}): ${r.stderr.trim().split('\n').slice(-3).join(' ').slice(0, 500)}`, 'DriverUnavailable', false);
      }
    } finally {
      await this.delete(id);
    }
  }

  /** Tears down every sandbox this instance holds (worker shutdown). */
  async close(): Promise<void> {
    await Promise.all([...this.live.keys()].map((id) => this.delete(id)));
  }

  /** This agent's limits: see the constructor. An agent without a policy file gets the driver's. */
  private async limitsFor(agent: string): Promise<Limits> {
    let p: Awaited<ReturnType<typeof loadPolicy>>['limits'] | null = null;
    try {
      p = (await loadPolicy(agent as SandboxSpec['agent'], this.policyDir)).limits;
    } catch {
      p = null;
    }
    const fromPolicy: Partial<Limits> = {
      ...(p?.memory_mb ? { memoryMb: p.memory_mb } : {}),
      ...(p?.processes ? { processes: p.processes } : {}),
      ...(p?.cpu_seconds ? { cpuSeconds: p.cpu_seconds } : {}),
    };
    return { ...this.limits, ...fromPolicy, ...this.explicitLimits };
  }

  private async held(id: string): Promise<Live> {
    const live = this.live.get(id);
    // Another process may have deleted it (a reaper, `sandbox reap`): its directory is the truth.
    if (live && existsSync(live.paths.meta)) return live;
    if (live) {
      live.proxy.close();
      live.cgroup?.remove();
    }
    const meta = await readMeta(statePaths(this.root, id).meta);
    if (!meta) this.live.delete(id);
    if (!meta) throw new SandboxError(`sandbox ${id} does not exist`, 'SandboxMissing', false);
    throw new SandboxError(`sandbox ${id} is no longer controlled by this worker`, 'SandboxLost', false);
  }
}

