import { spawn } from 'node:child_process';
import { access, mkdir, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { ResolvedPolicy } from '../schemas/policy';
import { isValidSandboxName, tag12 } from '../workflows/ids';
import { SandboxError, type Denial, type ExecOptions, type ExecResult, type SandboxDriver, type SandboxInfo, type SandboxSpec } from './driver';
import { LABEL, MANAGED_BY } from './labels';
import { createArgv, deleteArgv, execArgv, listArgv, logsArgv, policySetArgv, uploadArgv } from './openshell/argv';
import { parseDenials } from './openshell/denials';
import { isRefusedBySandboxProxy } from './openshell/loopback';
import { renderOpenShellPolicy, type LandlockCompatibility } from './openshell/policy-yaml';
import { type ListRow, nameSelector, onPath, parseCreated, parseRows, sameOwner } from './openshell/list';
import { classify, cliFailure, tail } from './openshell/report';

export { parseDenials };

export interface OpenShellDriverOptions {
  /** The `openshell` executable; default BULKHEAD_OPENSHELL_BIN, else `openshell` on PATH. */
  bin?: string;
  /** Where policy files are written for the CLI; default BULKHEAD_SANDBOX_ROOT/openshell or /tmp/bulkhead-openshell. */
  workdir?: string;
  /** Image for `--from`; default BULKHEAD_OPENSHELL_IMAGE, else the gateway's own. */
  image?: string;
  /** Default BULKHEAD_OPENSHELL_LANDLOCK, else hard_requirement (only paths every image has are listed). */
  landlock?: LandlockCompatibility;
  /** Extra read-only paths that exist in the image (BULKHEAD_OPENSHELL_IMAGE_PATHS, comma-separated). */
  imagePaths?: string[];
  /** The environment the CLI runs with (gateway settings); default process.env. */
  env?: NodeJS.ProcessEnv;
}

interface Run {
  code: number;
  stdout: string;
  stderr: string;
  killed: boolean;
}

const GRACE_MS = 30_000;
/** crates/openshell-cli/src/run.rs MAX_STDIN_PAYLOAD: the CLI refuses more, as its own exit 1. */
export const MAX_STDIN_BYTES = 4 * 1024 * 1024;
/** `sandbox list --limit` defaults to 100 (server max 1000): page through all of them. */
const PAGE = 100;
const MAX_PAGES = 1000;
/** Phases in which a sandbox will never run anything again: the reaper may take them. */
const DEAD = new Set(['Error', 'Stopped', 'Stopping']);
/** Where each policy endpoint's address comes from (deploy/policies targets), for error messages. */
const SETTING_OF: Record<string, string> = {
  model: 'BULKHEAD_MODEL_URL',
  prometheus: 'PROMETHEUS_URL (or the source\'s prometheus url)',
  loki: 'LOKI_URL (or the source\'s loki url)',
  anthropic: 'ANTHROPIC_BASE_URL',
  dispatch: 'BULKHEAD_DISPATCH_HOST',
};
/** The only OpenShell CLI line whose gRPC protocol this driver speaks (0.1.x cannot talk to 0.0.x). */
const CONTRACT_VERSION = '0.0.111';
const MIN_PATCH_WITH_EXEC_ENV = 59;

/**
 * Our sandbox ids already are valid OpenShell names (workflows/ids.ts); anything else (a test's,
 * an operator's) maps to a stable valid one, so every operation on that id finds the same sandbox.
 */
export function sandboxName(id: string): string {
  return isValidSandboxName(id) ? id : `bh-h-${tag12(id)}`;
}

export class OpenShellDriver implements SandboxDriver {
  readonly kind = 'openshell' as const;
  readonly limitations: string[];
  private readonly bin: string;
  private readonly dir: string;
  private readonly image?: string;
  private readonly landlock: LandlockCompatibility;
  private readonly imagePaths: string[];
  private readonly env: NodeJS.ProcessEnv;
  private ssh: Promise<boolean> | null = null;
  private seq = 0;

  constructor(opts: OpenShellDriverOptions = {}) {
    const env = opts.env ?? process.env;
    this.bin = opts.bin ?? env.BULKHEAD_OPENSHELL_BIN ?? 'openshell';
    const root = env.BULKHEAD_SANDBOX_ROOT;
    this.dir = opts.workdir ?? (root ? path.join(root, 'openshell') : '/tmp/bulkhead-openshell');
    this.image = opts.image ?? env.BULKHEAD_OPENSHELL_IMAGE;
    this.landlock = opts.landlock ?? (env.BULKHEAD_OPENSHELL_LANDLOCK as LandlockCompatibility | undefined) ?? 'hard_requirement';
    this.imagePaths = opts.imagePaths ?? (env.BULKHEAD_OPENSHELL_IMAGE_PATHS ?? '').split(',').map((p) => p.trim()).filter(Boolean);
    // The CLI's own warnings go to STDOUT unless RUST_LOG=error (its tracing subscriber writes
    // there): they would be read as list rows or mixed into an agent's JSON result.
    this.env = { ...env, RUST_LOG: 'error', NO_COLOR: '1' };
    this.limitations = [
      'openshell: sandboxes do not see the worker\'s filesystem: log and runbook directories must exist in the sandbox image (BULKHEAD_OPENSHELL_IMAGE_PATHS) or come from Loki; the worker\'s data mounts are not granted',
      'openshell: exec environment values travel on the openshell CLI\'s argv (`--env`): visible in the worker host\'s process table while the command runs',
      'openshell: tcp endpoints are L4 only: access (read-only/read-write) is not enforced for them',
      'openshell: loopback, link-local and unspecified destinations are always refused by the sandbox proxy: sources and endpoints need routable addresses',
    ];
    if (this.landlock === 'best_effort') {
      this.limitations.push('openshell: landlock best_effort: on a kernel without Landlock the filesystem policy is not enforced');
    }
  }

  /** Start-up: a CLI of the contract's protocol line, new enough for `exec --env`, and ssh for uploads. */
  async preflight(): Promise<void> {
    const r = await this.run(['--version']);
    const v = /(\d+)\.(\d+)\.(\d+)/.exec(r.stdout);
    if (r.code !== 0 || !v) {
      throw new SandboxError(`openshell --version failed (exit ${r.code}): ${tail(r.stderr || r.stdout)}`, 'DriverUnavailable', false);
    }
    const [major, minor, patch] = [Number(v[1]), Number(v[2]), Number(v[3])];
    if (major !== 0 || minor !== 0) {
      throw new SandboxError(
        `openshell ${v[0]} found; this driver speaks the 0.0.x gRPC protocol (contract taken from v${CONTRACT_VERSION}), which 0.1.x cannot talk to: install openshell 0.0.x (>= 0.0.${MIN_PATCH_WITH_EXEC_ENV})`,
        'DriverUnavailable', false,
      );
    }
    if (patch < MIN_PATCH_WITH_EXEC_ENV) {
      throw new SandboxError(`openshell ${v[0]} found; \`sandbox exec --env\` needs >= 0.0.${MIN_PATCH_WITH_EXEC_ENV} (contract v${CONTRACT_VERSION})`, 'DriverUnavailable', false);
    }
    await this.requireSsh();
  }

  async create(spec: SandboxSpec, retried = false): Promise<string> {
    const name = sandboxName(spec.id);
    const r = await this.withPolicy(name, [], (file) => this.run(createArgv(name, file, { from: this.image, labels: spec.labels })));
    if (r.code === 0) return name;
    if (r.code === 2) throw usageError('sandbox create', r);
    const msg = cliFailure(r.stderr) ?? tail(r.stderr);
    if (/already exists/i.test(msg)) {
      const existing = (await this.rows(nameSelector(spec.labels))).find((row) => row.name === name)
        ?? (await this.rows()).find((row) => row.name === name);
      if (!existing) throw new SandboxError(`openshell create ${name}: exists, but not listed yet`, 'SandboxCreateFailed', true);
      if (!sameOwner(existing.labels, spec.labels)) {
        throw new SandboxError(`openshell create ${name}: the name is taken by a sandbox this workflow did not create`, 'SandboxCreateFailed', false);
      }
      if (existing.phase === 'Ready') return name; // a retried create that had succeeded
      if (existing.phase === 'Provisioning' || existing.phase === 'Starting') {
        throw new SandboxError(`openshell create ${name}: still ${existing.phase}`, 'SandboxCreateFailed', true);
      }
      // Our own failed or stopped record: it would never run. Replace it, once.
      await this.delete(name);
      if (retried) throw new SandboxError(`openshell create ${name}: a failed record came back after deleting it`, 'SandboxCreateFailed', true);
      return this.create(spec, true);
    }
    if (/entered error phase/i.test(msg)) {
      // The record stays on the gateway (crates/openshell-cli/src/run.rs): remove it so neither a
      // retry nor the reaper meets a sandbox that never started.
      await this.delete(name).catch(() => undefined);
      const permanent = /landlock|policy|hard_requirement/i.test(msg);
      throw new SandboxError(`openshell create ${name}: ${msg}`, 'SandboxCreateFailed', !permanent);
    }
    throw classify('create', name, msg);
  }

  async exec(id: string, argv: string[], opts: ExecOptions = {}): Promise<ExecResult> {
    const name = sandboxName(id);
    if (opts.stdin !== undefined && Buffer.byteLength(opts.stdin) > MAX_STDIN_BYTES) {
      throw new SandboxError(`exec ${name}: stdin is ${Buffer.byteLength(opts.stdin)} bytes, over OpenShell's ${MAX_STDIN_BYTES}-byte limit`, 'DriverUnavailable', false);
    }
    const timeoutSeconds = opts.timeoutMs ? Math.max(1, Math.ceil(opts.timeoutMs / 1000)) : undefined;
    let args: string[];
    try {
      args = execArgv(name, argv, { timeoutSeconds, env: opts.env });
    } catch (e) {
      throw new SandboxError(`exec ${name}: ${(e as Error).message}`, 'DriverUnavailable', false);
    }
    const r = await this.run(args, {
      stdin: opts.stdin,
      onStderr: opts.onStderr,
      signal: opts.signal,
      // A backstop for a wedged CLI: OpenShell enforces the timeout itself.
      killAfterMs: opts.timeoutMs ? opts.timeoutMs + GRACE_MS : undefined,
    });
    if (r.code === 2 && /^Usage: openshell /m.test(r.stderr)) throw usageError('sandbox exec', r);
    // Exit 1 is the command's own code unless the CLI reported a failure of its own.
    if (r.code === 1) {
      const failure = cliFailure(r.stderr);
      if (failure) throw classify('exec', name, failure);
    }
    // 124 means OpenShell's timeout only when we asked for one; otherwise it is the command's own code.
    const timedOut = r.killed || (timeoutSeconds !== undefined && r.code === 124);
    return { exitCode: r.killed ? 124 : r.code, stdout: r.stdout, stderr: r.stderr, timedOut };
  }

  async upload(id: string, localPath: string, dest: string): Promise<void> {
    const name = sandboxName(id);
    try {
      await access(localPath);
    } catch {
      throw new SandboxError(`upload: local path does not exist: ${localPath}`, 'DriverUnavailable', false);
    }
    await this.requireSsh();
    const r = await this.run(uploadArgv(name, localPath, dest));
    if (r.code === 0) return;
    if (r.code === 2) throw usageError('sandbox upload', r);
    throw classify('upload', name, cliFailure(r.stderr) ?? tail(r.stderr));
  }

  /**
   * The whole network policy as one revision (`policy set`): the install allowance goes and the
   * run endpoints arrive together, with exactly the access asked for.
   */
  async applyPolicy(id: string, policy: ResolvedPolicy): Promise<void> {
    const name = sandboxName(id);
    const refused = policy.endpoints.find((e) => isRefusedBySandboxProxy(e.host));
    if (refused) {
      const setting = SETTING_OF[refused.name] ?? 'its address';
      throw new SandboxError(
        `${policy.agent}: endpoint ${refused.name} (${refused.host}:${refused.port}) is a loopback/link-local address, which OpenShell's sandbox proxy always refuses: set ${setting} to a routable address or Service name`,
        'PolicyRejected', false,
      );
    }
    const ipv6 = policy.endpoints.find((e) => e.host.includes(':'));
    if (ipv6) throw new SandboxError(`${policy.agent}: openshell cannot express the IPv6 host ${ipv6.host}`, 'PolicyRejected', false);
    const r = await this.withPolicy(name, policy.endpoints, (file) => this.run(policySetArgv(name, file)));
    if (r.code === 0) return;
    if (r.code === 124) throw new SandboxError(`openshell policy set ${name}: timed out waiting for the sandbox to load the policy`, 'DriverUnavailable', true);
    if (r.code === 2) throw usageError('policy set', r);
    const failure = cliFailure(r.stderr);
    if (failure) throw classify('policy', name, failure);
    // `✗ Policy version N failed to load: ...`: the sandbox refused it; sending it again will not help.
    throw new SandboxError(`openshell policy set ${name} rejected: ${tail(r.stderr)}`, 'PolicyRejected', false);
  }

  async delete(id: string): Promise<void> {
    const name = sandboxName(id);
    const r = await this.run(deleteArgv(name));
    // `! Sandbox N not found` with exit 0 (backend lost it), or NotFound with exit 1: both mean gone.
    if (r.code !== 0) {
      if (r.code === 2) throw usageError('sandbox delete', r);
      const e = classify('delete', name, cliFailure(r.stderr) ?? tail(r.stderr));
      if (e.type !== 'SandboxMissing') throw e;
    }
  }

  /** Bulkhead's sandboxes on the gateway, every page, with their labels and phase. */
  async list(): Promise<SandboxInfo[]> {
    return (await this.rows(`${LABEL.managedBy}=${MANAGED_BY}`)).map((row) => ({
      id: row.name,
      owner: row.labels?.[LABEL.owner] ?? null,
      agent: row.labels?.[LABEL.agent] ?? null,
      createdAt: parseCreated(row.created_at),
      alive: !DEAD.has(row.phase ?? 'Unknown'),
      labels: row.labels ?? {},
    }));
  }

  /** From `openshell logs N --source sandbox` (OCSF shorthand lines). */
  async denials(id: string): Promise<Denial[]> {
    const name = sandboxName(id);
    const r = await this.run(logsArgv(name));
    if (r.code !== 0) {
      if (r.code === 2) throw usageError('logs', r);
      throw classify('logs', name, cliFailure(r.stderr) ?? tail(r.stderr));
    }
    return parseDenials(r.stdout);
  }

  private async rows(selector?: string): Promise<ListRow[]> {
    const out: ListRow[] = [];
    for (let page = 0; page < MAX_PAGES; page++) {
      const r = await this.run(listArgv({ limit: PAGE, offset: page * PAGE, selector }));
      if (r.code !== 0) {
        if (r.code === 2) throw usageError('sandbox list', r);
        throw classify('list', '', cliFailure(r.stderr) ?? tail(r.stderr));
      }
      const rows = parseRows(r.stdout);
      if (!rows) throw new SandboxError(`openshell sandbox list: no JSON array in its output: ${tail(r.stdout)}`, 'DriverUnavailable', true);
      out.push(...rows.filter((row) => typeof row?.name === 'string'));
      if (rows.length < PAGE) break;
    }
    return out;
  }

  /** The policy file exists only for the one CLI call that reads it. */
  private async withPolicy<T>(name: string, endpoints: ResolvedPolicy['endpoints'], fn: (file: string) => Promise<T>): Promise<T> {
    await mkdir(path.join(this.dir, 'policies'), { recursive: true });
    const file = path.join(this.dir, 'policies', `${name}.${process.pid}.${++this.seq}.yaml`);
    await writeFile(file, renderOpenShellPolicy({ imagePaths: this.imagePaths, endpoints, landlock: this.landlock }));
    try {
      return await fn(file);
    } finally {
      await rm(file, { force: true });
    }
  }

  private requireSsh(): Promise<void> {
    this.ssh ??= onPath('ssh', this.env);
    return this.ssh.then((ok) => {
      if (!ok) {
        this.ssh = null;
        throw new SandboxError('openshell sandbox upload copies over SSH: install an ssh client on the worker host (Debian: openssh-client)', 'DriverUnavailable', false);
      }
    });
  }

  private run(args: string[], io: { stdin?: string; onStderr?: (c: string) => void; signal?: AbortSignal; killAfterMs?: number } = {}): Promise<Run> {
    return new Promise((resolve, reject) => {
      const child = spawn(this.bin, args, { stdio: ['pipe', 'pipe', 'pipe'], env: this.env });
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
}

/** Exit 2 with clap's usage: our argv and the installed CLI disagree; retrying cannot help. */
function usageError(what: string, r: Run): SandboxError {
  return new SandboxError(`openshell ${what} rejected its arguments (CLI version mismatch?): ${tail(r.stderr)}`, 'DriverUnavailable', false);
}
