import { existsSync, mkdirSync, readFileSync, rmdirSync, writeFileSync } from 'node:fs';
import { rmdir } from 'node:fs/promises';
import { createHash } from 'node:crypto';
import path from 'node:path';

/** Per-sandbox resource limits. Memory and processes are for the whole sandbox where cgroups allow. */
export interface Limits {
  memoryMb: number;
  processes: number;
  /** CPU seconds per process (RLIMIT_CPU): the kernel's only per-process CPU-time budget. */
  cpuSeconds: number;
}

export const DEFAULT_LIMITS: Limits = { memoryMb: 1024, processes: 256, cpuSeconds: 900 };

/** Limits from the environment (BULKHEAD_SANDBOX_MEMORY_MB / _PROCESSES / _CPU_SECONDS), else the defaults. */
export function limitsFromEnv(env: NodeJS.ProcessEnv = process.env): Limits {
  const num = (name: string, dflt: number) => {
    const v = env[name];
    if (v === undefined || v === '') return dflt;
    const n = Number(v);
    if (!Number.isInteger(n) || n <= 0) throw new Error(`${name}: expected a positive integer, got ${JSON.stringify(v)}`);
    return n;
  };
  return {
    memoryMb: num('BULKHEAD_SANDBOX_MEMORY_MB', DEFAULT_LIMITS.memoryMb),
    processes: num('BULKHEAD_SANDBOX_PROCESSES', DEFAULT_LIMITS.processes),
    cpuSeconds: num('BULKHEAD_SANDBOX_CPU_SECONDS', DEFAULT_LIMITS.cpuSeconds),
  };
}

export type LimitKind = 'memory' | 'processes' | 'cpu';

/** Counters read on the host after each exec: an increase means the exec ran into that limit. */
export interface LimitCounters {
  memory: number;
  processes: number;
}

/**
 * Which cgroup hierarchy this host lets us write. v2 (unified, with the pids and memory
 * controllers delegable from the root) is preferred; cgroup v1 pids + memory hierarchies are the
 * common case in containers and VMs of the hybrid era (this machine); else none, and rlimits
 * (per uid for processes, per process for memory) are all there is.
 */
export type CgroupMode = { kind: 'v2'; base: string } | { kind: 'v1'; pids: string; memory: string } | { kind: 'none'; why: string };

let detected: CgroupMode | null = null;

export function cgroupMode(): CgroupMode {
  if (detected) return detected;
  if (process.env.BULKHEAD_SANDBOX_CGROUPS === '0') return (detected = { kind: 'none', why: 'disabled by BULKHEAD_SANDBOX_CGROUPS=0' });
  detected = tryV2() ?? tryV1() ?? { kind: 'none', why: 'no writable cgroup hierarchy with the pids and memory controllers' };
  return detected;
}

function mounts(): { type: string; dir: string; opts: string }[] {
  try {
    return readFileSync('/proc/self/mounts', 'utf8')
      .split('\n')
      .map((l) => l.split(' '))
      .filter((f) => f.length >= 4)
      .map((f) => ({ dir: f[1]!, type: f[2]!, opts: f[3]! }));
  } catch {
    return [];
  }
}

function tryV2(): CgroupMode | null {
  for (const m of mounts().filter((x) => x.type === 'cgroup2')) {
    try {
      const controllers = readFileSync(path.join(m.dir, 'cgroup.controllers'), 'utf8');
      if (!/\bpids\b/.test(controllers) || !/\bmemory\b/.test(controllers)) continue;
      // The root cgroup is exempt from the no-internal-processes rule, so it can delegate.
      writeFileSync(path.join(m.dir, 'cgroup.subtree_control'), '+pids +memory');
      const base = path.join(m.dir, 'bulkhead-sandboxes');
      mkdirSync(base, { recursive: true });
      writeFileSync(path.join(base, 'cgroup.subtree_control'), '+pids +memory');
      return { kind: 'v2', base };
    } catch {
      continue;
    }
  }
  return null;
}

function tryV1(): CgroupMode | null {
  const all = mounts().filter((x) => x.type === 'cgroup');
  const pidsRoot = all.find((x) => x.opts.split(',').includes('pids'))?.dir;
  const memRoot = all.find((x) => x.opts.split(',').includes('memory'))?.dir;
  if (!pidsRoot || !memRoot) return null;
  try {
    const pids = path.join(pidsRoot, 'bulkhead-sandboxes');
    const memory = path.join(memRoot, 'bulkhead-sandboxes');
    mkdirSync(pids, { recursive: true });
    mkdirSync(memory, { recursive: true });
    return { kind: 'v1', pids, memory };
  } catch {
    return null;
  }
}

/** One sandbox's cgroup(s): created with its limits before start, removed after its processes. */
export class SandboxCgroup {
  readonly dirs: string[];
  private constructor(
    private readonly mode: Exclude<CgroupMode, { kind: 'none' }>,
    name: string,
  ) {
    this.dirs = mode.kind === 'v2' ? [path.join(mode.base, name)] : [path.join(mode.pids, name), path.join(mode.memory, name)];
  }

  /** Null when the host has no usable cgroups (the caller falls back to rlimits). */
  static create(key: string, limits: Limits): SandboxCgroup | null {
    const mode = cgroupMode();
    if (mode.kind === 'none') return null;
    const name = `bh-${createHash('sha256').update(key).digest('hex').slice(0, 16)}`;
    const cg = new SandboxCgroup(mode, name);
    try {
      cg.remove();
      for (const d of cg.dirs) mkdirSync(d, { recursive: true });
      const bytes = String(limits.memoryMb * 1024 * 1024);
      if (mode.kind === 'v2') {
        writeFileSync(path.join(cg.dirs[0]!, 'pids.max'), String(limits.processes));
        writeFileSync(path.join(cg.dirs[0]!, 'memory.max'), bytes);
        // No swap: past the limit the sandbox is OOM-killed, not slowed to a crawl.
        try {
          writeFileSync(path.join(cg.dirs[0]!, 'memory.swap.max'), '0');
        } catch {
          /* swap accounting off */
        }
      } else {
        writeFileSync(path.join(cg.dirs[0]!, 'pids.max'), String(limits.processes));
        writeFileSync(path.join(cg.dirs[1]!, 'memory.limit_in_bytes'), bytes);
        try {
          writeFileSync(path.join(cg.dirs[1]!, 'memory.memsw.limit_in_bytes'), bytes);
        } catch {
          /* swap accounting off */
        }
      }
    } catch {
      cg.remove();
      return null;
    }
    return cg;
  }

  /** cgroup.procs files a starting process writes its pid to. */
  get procsFiles(): string[] {
    return this.dirs.map((d) => path.join(d, 'cgroup.procs'));
  }

  counters(): LimitCounters {
    const read = (f: string) => {
      try {
        return readFileSync(f, 'utf8');
      } catch {
        return '';
      }
    };
    const field = (text: string, name: string) => Number(new RegExp(`^${name} (\\d+)$`, 'm').exec(text)?.[1] ?? 0);
    if (this.mode.kind === 'v2') {
      const d = this.dirs[0]!;
      return { processes: field(read(path.join(d, 'pids.events')), 'max'), memory: field(read(path.join(d, 'memory.events')), 'oom_kill') };
    }
    const oom = read(path.join(this.dirs[1]!, 'memory.oom_control'));
    return {
      processes: field(read(path.join(this.dirs[0]!, 'pids.events')), 'max'),
      // oom_kill (kernel >= 4.13) counts kills; failcnt counts refused charges (reclaimed or not).
      memory: /^oom_kill /m.test(oom) ? field(oom, 'oom_kill') : Number(read(path.join(this.dirs[1]!, 'memory.failcnt')).trim() || 0),
    };
  }

  /** Pids still in the sandbox's cgroup (anything that escaped its process group). */
  pids(): number[] {
    const out = new Set<number>();
    for (const f of this.procsFiles) {
      try {
        for (const l of readFileSync(f, 'utf8').split('\n')) if (/^\d+$/.test(l)) out.add(Number(l));
      } catch {
        /* gone */
      }
    }
    return [...out];
  }

  /**
   * Removes the cgroups once their last process is reaped (a killed process keeps its cgroup
   * busy until its parent collects it); gives up after `ms`, leaving an empty cgroup behind.
   */
  async removeWhenEmpty(ms = 2_000): Promise<boolean> {
    const end = Date.now() + ms;
    for (;;) {
      this.remove();
      if (this.dirs.every((d) => !existsSync(d))) return true;
      if (Date.now() > end) return false;
      await new Promise((r) => setTimeout(r, 20));
    }
  }

  remove(): void {
    for (const d of this.dirs) {
      try {
        if (existsSync(d)) rmdirSync(d);
      } catch {
        /* still populated: the caller kills and retries */
      }
    }
  }
}

/** prlimit arguments: the per-process and per-uid backstops, whatever cgroups do. */
export function rlimitArgs(limits: Limits, cgroups: boolean, ownUid: boolean): string[] {
  const out = [`--cpu=${limits.cpuSeconds}:${limits.cpuSeconds + 5}`, '--core=0'];
  // RLIMIT_NPROC counts the processes of the sandbox's host uid: a bound for this sandbox only
  // when that uid is its own (a shared uid would count the user's other processes).
  if (ownUid) out.unshift(`--nproc=${limits.processes}`);
  // Without a memory cgroup, the data segment of each process is the memory bound we can set
  // (RLIMIT_AS would also count V8's reserved but unused address space and break node).
  if (!cgroups) out.push(`--data=${limits.memoryMb * 1024 * 1024}`);
  return out;
}

/** Reason texts a run fails with when its sandbox hit a limit (also appended to its stderr). */
export function limitMessage(kind: LimitKind, limits: Limits): string {
  switch (kind) {
    case 'memory':
      return `sandbox limit reached: memory (${limits.memoryMb} MB); a process was killed or refused memory`;
    case 'processes':
      return `sandbox limit reached: processes (${limits.processes}); a fork was refused`;
    case 'cpu':
      return `sandbox limit reached: CPU time (${limits.cpuSeconds} s per process); the process was killed`;
  }
}

/** rlimit mode: what a refused fork or allocation prints (sh, bash, node, libc's strerror). */
export function limitFromStderr(stderr: string): LimitKind | null {
  const tail = stderr.slice(-4096);
  if (/Cannot fork|fork: (retry: )?Resource temporarily unavailable|spawn EAGAIN|EAGAIN.*spawn/.test(tail)) return 'processes';
  if (/Cannot allocate memory|ENOMEM|heap out of memory|Array buffer allocation failed|Out of memory|std::bad_alloc/.test(tail)) return 'memory';
  return null;
}

/** A crashed controller's cgroup, removed once its killed processes are reaped. */
export async function rmdirWhenEmpty(dir: string, ms = 2_000): Promise<void> {
  const end = Date.now() + ms;
  for (;;) {
    try {
      await rmdir(dir);
      return;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT' || Date.now() > end) return;
    }
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** Pids in cgroups a crashed controller left (their cgroup.procs files). */
export function cgroupPids(dirs: string[]): number[] {
  const out: number[] = [];
  for (const d of dirs) {
    try {
      for (const l of readFileSync(path.join(d, 'cgroup.procs'), 'utf8').split('\n')) if (/^\d+$/.test(l)) out.push(Number(l));
    } catch {
      /* gone */
    }
  }
  return out;
}

