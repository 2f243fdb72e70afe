import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { access, mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { ResolvedEndpoint, ResolvedPolicy } from '../schemas/policy';
import {
  addEndpointsArgv, binariesKey, createArgv, deleteArgv, execArgv, groupByBinaries, listArgv, logsArgv, removeEndpointsArgv, uploadArgv,
} from './openshell/argv';
import { renderOpenShellPolicy, type LandlockCompatibility } from './openshell/policy-yaml';
import { hostPort } from './policy';
import {
  SandboxError, type Denial, type ExecOptions, type ExecResult, type SandboxDriver, type SandboxInfo, type SandboxSpec,
} from './driver';

export interface OpenShellDriverOptions {
  /** The `openshell` executable; default BULKHEAD_OPENSHELL_BIN, else `openshell` on PATH. */
  bin?: string;
  /** Where the local index and policy files live; default BULKHEAD_SANDBOX_ROOT/openshell or /tmp/bulkhead-openshell. */
  workdir?: string;
  /** Image for `--from`; default the gateway's own. */
  image?: string;
  /** best_effort lets a kernel without Landlock run with no filesystem rules, so it is opt-in. */
  landlock?: LandlockCompatibility;
}

/** OpenShell keeps no owner/agent for us in the contract: this is our record of what we created. */
interface IndexEntry {
  owner: string;
  agent: string;
  createdAt: string;
  /** Endpoints currently allowed, so applyPolicy can replace (remove + add) rather than only merge. */
  applied: ResolvedEndpoint[];
}
type Index = Record<string, IndexEntry>;

interface Run {
  code: number;
  stdout: string;
  stderr: string;
  killed: boolean;
}

const GRACE_MS = 30_000;
const TRANSIENT = /transport error|Unavailable|connection refused|dns error|tcp connect|deadline has elapsed|broken pipe/i;
/** The CLI's own failures are miette reports ("Error:   × ...") or clap usage errors. */
const CLI_SANDBOX_MISSING = /^Error:\s.*sandbox (?:'[^']*' )?not found/m;
const CLI_USAGE = /^Usage: openshell /m;
/** The not-found wording of commands other than exec, wherever it lands in the report. */
const SANDBOX_NOT_FOUND = /sandbox (?:'[^']*' )?not found/i;

/**
 * OpenShell sandbox names must be DNS labels; our ids carry '/' and '_'. Deterministic, so a
 * retried create lands on the same name.
 */
export function sandboxName(id: string): string {
  const clean = id.toLowerCase().replace(/[^a-z0-9-]+/g, '-').replace(/^-+|-+$/g, '');
  if (clean === id && clean.length <= 63) return clean;
  const hash = createHash('sha256').update(id).digest('hex').slice(0, 8);
  return `${clean.slice(0, 54).replace(/-+$/, '')}-${hash}`;
}

const DENIED = /\bDENIED\s+(?:(\S+)\(\d+\)\s+->\s+)?(\S+)(?:\s+(\S+))?/;
const REASON = /[[\s]reason:([^\]]*)\]/;

function hostPortOf(target: string): { host: string; port: number } | null {
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(target)) {
    try {
      return hostPort(target);
    } catch {
      return null;
    }
  }
  const m = /^(.*):(\d+)(?:\/\w+)?$/.exec(target);
  return m ? { host: m[1]!.replace(/^\[|\]$/g, ''), port: Number(m[2]) } : null;
}

/**
 * OCSF shorthand, as OpenShell logs it:
 *   NET:OPEN [MED] DENIED /sandbox/.venv/bin/python3(47) -> vllm-api:443 [policy:- engine:opa] [reason:...]
 *   HTTP:PUT [MED] DENIED curl(68) -> PUT http://api.github.com:443/x [policy:p engine:l7] [reason:...]
 * Identical denials collapse into one.
 */
export function parseDenials(text: string): Denial[] {
  const out = new Map<string, Denial>();
  for (const line of text.split('\n')) {
    const m = DENIED.exec(line);
    if (!m) continue;
    const isMethod = /^[A-Z]+$/.test(m[2]!) && m[3] !== undefined;
    const hp = hostPortOf(isMethod ? m[3]! : m[2]!);
    if (!hp) continue;
    const d: Denial = { ...hp, binary: m[1] ?? null, reason: REASON.exec(line)?.[1]?.trim() || 'denied by policy' };
    out.set(JSON.stringify(d), d);
  }
  return [...out.values()];
}

function sameEndpoint(a: ResolvedEndpoint, b: ResolvedEndpoint): boolean {
  return a.host === b.host && a.port === b.port && a.protocol === b.protocol && a.access === b.access
    && a.enforcement === b.enforcement && binariesKey(a) === binariesKey(b);
}

export class OpenShellDriver implements SandboxDriver {
  readonly kind = 'openshell' as const;
  readonly limitations: string[];
  private readonly bin: string;
  private readonly dir: string;
  private readonly image?: string;
  private readonly landlock: LandlockCompatibility;
  /** Serialises index read-modify-writes within this process; the rename makes each write atomic. */
  private indexLock: Promise<unknown> = Promise.resolve();

  constructor(opts: OpenShellDriverOptions = {}) {
    this.bin = opts.bin ?? process.env.BULKHEAD_OPENSHELL_BIN ?? 'openshell';
    const root = process.env.BULKHEAD_SANDBOX_ROOT;
    this.dir = opts.workdir ?? (root ? path.join(root, 'openshell') : '/tmp/bulkhead-openshell');
    this.image = opts.image;
    this.landlock = opts.landlock ?? 'hard_requirement';
    this.limitations = [
      'openshell: read-only data paths are granted read-only in the sandbox policy at the same path, but OpenShell sandboxes do not see the worker\'s filesystem and the driver cannot copy data there (uploads run as the sandbox user, which cannot write a read-only path): file data must be in the image; use Loki/Prometheus sources otherwise',
      'openshell: the exec environment travels on argv (`env K=V`): values are visible in the worker host\'s process table while the command runs',
      'openshell: owner/agent metadata is kept in a local index on this worker host; sandboxes created elsewhere list with no owner',
      'openshell: tcp endpoints are L4 only: access (read-only/read-write) is not enforced for them',
    ];
    if (this.landlock === 'best_effort') {
      this.limitations.push('openshell: landlock best_effort: on a kernel without Landlock the filesystem policy is not enforced');
    }
  }

  async create(spec: SandboxSpec): Promise<string> {
    const name = sandboxName(spec.id);
    // A fresh sandbox replaces any stale entry: its `applied` would describe a sandbox that is gone.
    const record = (fresh: boolean) => this.updateIndex((ix) => {
      const entry = { owner: spec.owner, agent: spec.agent, createdAt: new Date().toISOString(), applied: [] };
      ix[name] = fresh ? entry : (ix[name] ?? entry);
    });
    if ((await this.names()).includes(name)) {
      await record(false);
      return name;
    }
    await mkdir(path.join(this.dir, 'policies'), { recursive: true });
    const policyFile = path.join(this.dir, 'policies', `${name}.yaml`);
    // Deny-all: no network_policies. Endpoints arrive live through applyPolicy.
    await writeFile(policyFile, renderOpenShellPolicy({ readOnly: spec.readOnly, landlock: this.landlock }));
    const r = await this.run(createArgv(name, policyFile, this.image));
    if (r.code !== 0 && !/already exists/i.test(r.stderr)) {
      throw new SandboxError(`openshell sandbox create ${name} failed (exit ${r.code}): ${tail(r.stderr)}`, 'SandboxCreateFailed', r.code !== 2);
    }
    await record(r.code === 0);
    return name;
  }

  async exec(id: string, argv: string[], opts: ExecOptions = {}): Promise<ExecResult> {
    const timeoutSeconds = opts.timeoutMs ? Math.max(1, Math.ceil(opts.timeoutMs / 1000)) : undefined;
    const r = await this.run(execArgv(id, argv, { timeoutSeconds, env: opts.env }), {
      stdin: opts.stdin,
      onStderr: opts.onStderr,
      signal: opts.signal,
      // A backstop for a wedged CLI: OpenShell enforces the timeout itself.
      killAfterMs: opts.timeoutMs ? opts.timeoutMs + GRACE_MS : undefined,
    });
    if (r.code === 1 && CLI_SANDBOX_MISSING.test(r.stderr)) {
      throw sandboxMissing(id);
    }
    if (r.code === 2 && CLI_USAGE.test(r.stderr)) throw usageError('sandbox exec', r);
    // 124 means OpenShell's timeout only when we asked for one; otherwise it is the command's own code.
    const timedOut = r.killed || (timeoutSeconds !== undefined && r.code === 124);
    return { exitCode: r.killed ? 124 : r.code, stdout: r.stdout, stderr: r.stderr, timedOut };
  }

  async upload(id: string, localPath: string, dest: string): Promise<void> {
    try {
      await access(localPath);
    } catch {
      throw new SandboxError(`upload: local path does not exist: ${localPath}`, 'DriverUnavailable', false);
    }
    const r = await this.run(uploadArgv(id, localPath, dest));
    if (r.code === 0) return;
    if (SANDBOX_NOT_FOUND.test(r.stderr)) throw sandboxMissing(id);
    if (r.code === 2) throw usageError('sandbox upload', r);
    throw new SandboxError(`openshell sandbox upload ${id} failed (exit ${r.code}): ${tail(r.stderr)}`, 'SandboxLost', true);
  }

  /**
   * OpenShell merges (`--add-endpoint`) rather than replaces, so replacement is: remove what is
   * allowed now and not wanted (the install allowance after install), then add what is missing.
   * The index is updated after each loaded revision, so a retry resumes where it stopped.
   */
  async applyPolicy(id: string, policy: ResolvedPolicy): Promise<void> {
    const current = (await this.readIndex())[id]?.applied ?? [];
    const stale = current.filter((c) => !policy.endpoints.some((e) => sameEndpoint(c, e)));
    const missing = policy.endpoints.filter((e) => !current.some((c) => sameEndpoint(c, e)));
    if (stale.length) {
      await this.policyUpdate(id, removeEndpointsArgv(id, stale));
      await this.setApplied(id, (a) => a.filter((c) => !stale.some((s) => s.host === c.host && s.port === c.port)));
    }
    for (const group of groupByBinaries(missing)) {
      let argv: string[];
      try {
        argv = addEndpointsArgv(id, group);
      } catch (e) {
        throw new SandboxError(`${policy.agent}: ${(e as Error).message}`, 'PolicyRejected', false);
      }
      await this.policyUpdate(id, argv);
      await this.setApplied(id, (a) => [...a, ...group]);
    }
  }

  async delete(id: string): Promise<void> {
    const r = await this.run(deleteArgv(id));
    // The CLI prints "! Sandbox N not found" with exit 0, or fails with NotFound: both mean gone.
    if (r.code !== 0 && !/not found/i.test(r.stderr + r.stdout)) {
      if (r.code === 2) throw usageError('sandbox delete', r);
      throw new SandboxError(`openshell sandbox delete ${id} failed (exit ${r.code}): ${tail(r.stderr)}`, 'DriverUnavailable', true);
    }
    await this.updateIndex((ix) => {
      delete ix[id];
    });
    await rm(path.join(this.dir, 'policies', `${id}.yaml`), { force: true });
  }

  async list(): Promise<SandboxInfo[]> {
    const names = await this.names();
    const ix = await this.readIndex();
    return names.map((name) => ({
      id: name,
      owner: ix[name]?.owner ?? null,
      agent: ix[name]?.agent ?? null,
      createdAt: ix[name]?.createdAt ?? null,
      alive: true,
    }));
  }

  /** From `openshell logs N --source sandbox` (not in DESIGN's list; confirmed in OpenShell's CLI source). */
  async denials(id: string): Promise<Denial[]> {
    const r = await this.run(logsArgv(id));
    if (r.code !== 0) {
      if (SANDBOX_NOT_FOUND.test(r.stderr)) throw sandboxMissing(id);
      if (r.code === 2) throw usageError('logs', r);
      throw new SandboxError(`openshell logs ${id} failed (exit ${r.code}): ${tail(r.stderr)}`, 'DriverUnavailable', true);
    }
    return parseDenials(r.stdout);
  }

  private async names(): Promise<string[]> {
    const r = await this.run(listArgv());
    if (r.code !== 0) {
      if (r.code === 2) throw usageError('sandbox list', r);
      throw new SandboxError(`openshell sandbox list failed (exit ${r.code}): ${tail(r.stderr)}`, 'DriverUnavailable', true);
    }
    return r.stdout.split('\n').map((l) => l.trim()).filter(Boolean);
  }

  /** `--wait` exit codes: 0 loaded, 1 failed, 124 timed out. Exit 1 is also any CLI error, so read stderr. */
  private async policyUpdate(id: string, argv: string[]): Promise<void> {
    const r = await this.run(argv);
    if (r.code === 0) return;
    if (r.code === 124) {
      throw new SandboxError(`openshell policy update ${id}: timed out waiting for the sandbox to load the policy`, 'DriverUnavailable', true);
    }
    if (r.code === 2) throw usageError('policy update', r);
    if (r.code === 1) {
      if (SANDBOX_NOT_FOUND.test(r.stderr)) throw sandboxMissing(id);
      if (TRANSIENT.test(r.stderr)) throw new SandboxError(`openshell policy update ${id}: ${tail(r.stderr)}`, 'DriverUnavailable', true);
      throw new SandboxError(`openshell policy update ${id} rejected: ${tail(r.stderr)}`, 'PolicyRejected', false);
    }
    throw new SandboxError(`openshell policy update ${id} failed (exit ${r.code}): ${tail(r.stderr)}`, 'DriverUnavailable', true);
  }

  private run(args: string[], io: { stdin?: string; onStderr?: (c: string) => void; signal?: AbortSignal; killAfterMs?: number } = {}): Promise<Run> {
    return new Promise((resolve, reject) => {
      const child = spawn(this.bin, args, { stdio: ['pipe', 'pipe', 'pipe'] });
      let stdout = '';
      let stderr = '';
      let killed = false;
      const kill = () => {
        killed = true;
        child.kill('SIGKILL');
      };
      const timer = io.killAfterMs ? setTimeout(kill, io.killAfterMs) : undefined;
      io.signal?.addEventListener('abort', kill, { once: true });
      child.stdout.setEncoding('utf8').on('data', (c: string) => (stdout += c));
      child.stderr.setEncoding('utf8').on('data', (c: string) => {
        stderr += c;
        io.onStderr?.(c);
      });
      child.on('error', (e: NodeJS.ErrnoException) => {
        clearTimeout(timer);
        reject(e.code === 'ENOENT'
          ? new SandboxError(`openshell CLI not found: ${this.bin} (set BULKHEAD_OPENSHELL_BIN)`, 'DriverUnavailable', false)
          : e);
      });
      child.on('close', (code, signal) => {
        clearTimeout(timer);
        io.signal?.removeEventListener('abort', kill);
        resolve({ code: code ?? (signal ? 128 + 9 : 1), stdout, stderr, killed });
      });
      // An EPIPE when the CLI exits before reading stdin is not our failure; its exit code tells.
      child.stdin.on('error', () => {});
      child.stdin.end(io.stdin ?? '');
    });
  }

  private get indexFile(): string {
    return path.join(this.dir, 'index.json');
  }

  private async readIndex(): Promise<Index> {
    try {
      return JSON.parse(await readFile(this.indexFile, 'utf8')) as Index;
    } catch {
      return {};
    }
  }

  private updateIndex(fn: (ix: Index) => void): Promise<void> {
    const next = this.indexLock.then(async () => {
      const ix = await this.readIndex();
      fn(ix);
      await mkdir(this.dir, { recursive: true });
      const tmp = `${this.indexFile}.${process.pid}.tmp`;
      await writeFile(tmp, JSON.stringify(ix, null, 2));
      await rename(tmp, this.indexFile);
    });
    this.indexLock = next.catch(() => {});
    return next;
  }

  private setApplied(id: string, fn: (a: ResolvedEndpoint[]) => ResolvedEndpoint[]): Promise<void> {
    return this.updateIndex((ix) => {
      const e = ix[id];
      if (e) e.applied = fn(e.applied);
    });
  }
}

function tail(s: string): string {
  return s.trim().split('\n').slice(-3).join(' | ').slice(0, 500);
}

function sandboxMissing(id: string): SandboxError {
  return new SandboxError(`sandbox ${id} not found`, 'SandboxMissing', false);
}

/** Exit 2 with clap's usage: our argv and the installed CLI disagree; retrying cannot help. */
function usageError(what: string, r: Run): SandboxError {
  return new SandboxError(`openshell ${what} rejected its arguments (CLI version mismatch?): ${tail(r.stderr)}`, 'DriverUnavailable', false);
}
