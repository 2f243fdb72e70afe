import { randomBytes } from 'node:crypto';
import path from 'node:path';
import type { AgentName } from '../schemas/agent';
import type { ResolvedPolicy, SandboxRole } from '../schemas/policy';
import { AGENT_KIND } from '../workflows/ids';
import type { Denial, ExecOptions, ExecResult, SandboxDriver, SandboxInfo, SandboxSpec } from './driver';

/**
 * Pool stock is named apart from workflow sandboxes (whose names match workflows/ids.ts baseOf),
 * so a reaper in another process can tell stock, owned by a live worker, from an orphan:
 * `bh-p<k>-<12 random base-36>`, 18 characters, within OpenShell's 19 (see workflows/ids.ts).
 */
export const POOL_PREFIX = 'bh-p';
const POOL_ID = /^bh-p[a-z]-[0-9a-z]{12}$/;
export const isPoolId = (id: string) => POOL_ID.test(id);
export function poolId(agent: SandboxRole): string {
  const kind = agent in AGENT_KIND ? AGENT_KIND[agent as AgentName] : 'x';
  const n = BigInt(`0x${randomBytes(8).toString('hex')}`) % 36n ** 12n;
  return `${POOL_PREFIX}${kind}-${n.toString(36).padStart(12, '0')}`;
}

/** Installs the agent into a fresh sandbox (the worker passes its installAgent activity body). */
export type Installer = (id: string, agent: SandboxRole) => Promise<void>;

export interface WarmPoolOptions {
  /** Ready sandboxes kept per (agent, read-only mounts). */
  size: number;
  /** Sandboxes being made at once: filling is CPU-bound (the agent self-check), so keep it below the cores. */
  maxFilling?: number;
  /** Distinct mount sets kept warm; the least recently used one is dropped past this. */
  maxKeys?: number;
  /** Wait after a failed fill before trying that key again. */
  retryMs?: number;
  /**
   * Refills wait until no sandbox is in use or none was started for this long: creating one is
   * CPU-bound (the agent self-check) and would slow the very agents the pool is there to speed up.
   */
  idleMs?: number;
}

interface Stock {
  id: string;
  /** `file\0dest` of the bundle the installer uploaded, so a claim can skip the same install. */
  installed: string | null;
}
interface Claim {
  stock: Stock;
  owner: string;
  claimedAt: string;
}
interface Key {
  agent: SandboxRole;
  readOnly: string[];
  ready: Stock[];
  filling: number;
  retryAt: number;
}

// Only the specialists: the session sandbox has its own policy and install.
const POOLED = new Set<SandboxRole>(['metrics_agent', 'log_agent', 'runbook_agent']);
const keyName = (agent: SandboxRole, mounts: string[]) => `${agent}\0${mounts.join('\0')}`;

/**
 * A warm pool in front of a driver: per (agent, read-only mounts) it keeps `size` sandboxes
 * already created, with the agent installed and self-checked, network deny-all. `create` claims
 * one under the workflow's deterministic id (an alias: the stock's on-disk name cannot change
 * while it exists, its paths are its mounts and its uid); the run policy is then applied at
 * claim time by the normal policy step, and `delete` deletes the claimed sandbox for good. The
 * pool refills in the background. Mounts are fixed at creation, so keys fill lazily: the first
 * create for a mount set is cold and registers it.
 */
export class WarmPool implements SandboxDriver {
  readonly kind: SandboxDriver['kind'];
  readonly limitations: string[];
  private readonly keys = new Map<string, Key>();
  private readonly claims = new Map<string, Claim>();
  /** Ids created straight on the inner driver (pool miss): a retried create must not claim. */
  private readonly cold = new Set<string>();
  /** Stock this instance made and has not handed out: the worker's, never an orphan. */
  private readonly stock = new Set<string>();
  private readonly uploads = new Map<string, string>();
  private readonly fills = new Set<Promise<void>>();
  private readonly deleting = new Set<Promise<void>>();
  private installer: Installer | null = null;
  private closed = false;
  private lastStart = 0;
  private timer: NodeJS.Timeout | null = null;
  private readonly idleMs: number;
  private readonly size: number;
  private readonly maxFilling: number;
  private readonly maxKeys: number;
  private readonly retryMs: number;

  constructor(
    readonly inner: SandboxDriver,
    opts: WarmPoolOptions,
  ) {
    this.kind = inner.kind;
    this.limitations = inner.limitations;
    this.size = opts.size;
    this.maxFilling = opts.maxFilling ?? 1;
    this.maxKeys = opts.maxKeys ?? 4;
    this.retryMs = opts.retryMs ?? 5_000;
    this.idleMs = opts.idleMs ?? 5_000;
  }

  /** Until an installer is given the pool only passes through (the activities need the driver first). */
  start(installer: Installer): void {
    this.installer = installer;
    this.pump();
  }

  /** Starts filling a mount set before its first use (e.g. a known scenario). */
  prefill(agent: SandboxRole, readOnly: string[]): void {
    this.want(agent, readOnly);
    this.pump();
  }

  /** Resolves once every registered key is full (or the pool is closed). */
  async whenFull(timeoutMs = 120_000): Promise<void> {
    const end = Date.now() + timeoutMs;
    while (!this.closed && [...this.keys.values()].some((k) => k.ready.length < this.size)) {
      if (Date.now() > end) throw new Error(`warm pool not full after ${timeoutMs} ms`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  /** Ready sandboxes per key, for reports. */
  counts(): { agent: string; readOnly: string[]; ready: number; filling: number }[] {
    return [...this.keys.values()].map((k) => ({ agent: k.agent, readOnly: k.readOnly, ready: k.ready.length, filling: k.filling }));
  }

  async create(spec: SandboxSpec): Promise<string> {
    if (this.claims.has(spec.id)) return spec.id;
    this.lastStart = Date.now();
    if (!this.cold.has(spec.id) && this.installer && !this.closed && POOLED.has(spec.agent)) {
      const key = this.want(spec.agent, spec.readOnly);
      const stock = key.ready.shift();
      this.pump();
      if (stock) {
        this.stock.delete(stock.id);
        this.uploads.delete(stock.id);
        this.claims.set(spec.id, { stock, owner: spec.owner, claimedAt: new Date().toISOString() });
        return spec.id;
      }
    }
    this.cold.add(spec.id);
    try {
      return await this.inner.create(spec);
    } catch (e) {
      this.cold.delete(spec.id);
      throw e;
    }
  }

  /** True when `id` is a claimed sandbox that already holds exactly this file at dest, self-checked. */
  preinstalled(id: string, file: string, dest: string): boolean {
    return this.claims.get(id)?.stock.installed === `${file}\0${dest}`;
  }

  exec(id: string, argv: string[], opts?: ExecOptions): Promise<ExecResult> {
    return this.inner.exec(this.resolve(id), argv, opts);
  }

  async upload(id: string, localPath: string, dest: string): Promise<void> {
    const real = this.resolve(id);
    await this.inner.upload(real, localPath, dest);
    if (this.stock.has(real)) this.uploads.set(real, `${localPath}\0${dest}`);
  }

  applyPolicy(id: string, policy: ResolvedPolicy): Promise<void> {
    return this.inner.applyPolicy(this.resolve(id), policy);
  }

  denials(id: string): Promise<Denial[]> {
    return this.inner.denials(this.resolve(id));
  }

  async delete(id: string): Promise<void> {
    const claim = this.claims.get(id);
    // The claim is forgotten only once the delete succeeded, so a retried delete finds it again.
    await this.inner.delete(claim ? claim.stock.id : id);
    this.claims.delete(id);
    this.cold.delete(id);
    this.pump();
  }

  /**
   * Claimed sandboxes appear under the workflow's id (the reaper judges them by that workflow);
   * unclaimed stock is left out: it belongs to this live worker, not to any workflow.
   */
  async list(): Promise<SandboxInfo[]> {
    const byStock = new Map([...this.claims].map(([alias, c]) => [c.stock.id, { alias, c }]));
    return (await this.inner.list()).flatMap((s) => {
      const hit = byStock.get(s.id);
      if (hit) return [{ ...s, id: hit.alias, owner: hit.c.owner, createdAt: hit.c.claimedAt }];
      return this.stock.has(s.id) ? [] : [s];
    });
  }

  /** Worker shutdown: stops refilling and deletes all stock and whatever claims are left. */
  async close(): Promise<void> {
    this.closed = true;
    if (this.timer) clearTimeout(this.timer);
    await Promise.allSettled([...this.fills]);
    await Promise.allSettled([...this.deleting]);
    const ids = [...this.stock, ...[...this.claims.values()].map((c) => c.stock.id)];
    await Promise.allSettled(ids.map((id) => this.inner.delete(id)));
    this.stock.clear();
    this.claims.clear();
    this.keys.clear();
  }

  private resolve(id: string): string {
    return this.claims.get(id)?.stock.id ?? id;
  }

  private want(agent: SandboxRole, readOnly: string[]): Key {
    const mounts = [...new Set(readOnly.map((p) => path.resolve(p)))].sort();
    const name = keyName(agent, mounts);
    let key = this.keys.get(name);
    if (key) {
      // Re-insert: Map order is the LRU order.
      this.keys.delete(name);
    } else {
      key = { agent, readOnly: mounts, ready: [], filling: 0, retryAt: 0 };
      if (this.keys.size >= this.maxKeys) this.evict(this.keys.keys().next().value!);
    }
    this.keys.set(name, key);
    return key;
  }

  private evict(name: string): void {
    const key = this.keys.get(name)!;
    this.keys.delete(name);
    for (const s of key.ready) this.discard(s.id);
  }

  /** Deletes stock in the background; close() waits for these. */
  private discard(id: string): void {
    this.stock.delete(id);
    this.uploads.delete(id);
    const p = this.inner.delete(id).catch(() => undefined);
    this.deleting.add(p);
    void p.finally(() => this.deleting.delete(p));
  }

  /** Starts fills, oldest-used key last, while there is room and the worker is quiet. */
  private pump(): void {
    if (!this.installer || this.closed) return;
    const now = Date.now();
    const busyFor = this.claims.size + this.cold.size > 0 ? this.lastStart + this.idleMs - now : 0;
    if (busyFor > 0) {
      if (this.timer) clearTimeout(this.timer);
      this.timer = setTimeout(() => this.pump(), busyFor);
      this.timer.unref();
      return;
    }
    for (const key of [...this.keys.values()].reverse()) {
      while (this.fills.size < this.maxFilling && key.ready.length + key.filling < this.size && key.retryAt <= now) {
        const p = this.fill(key).finally(() => {
          this.fills.delete(p);
          this.pump();
        });
        this.fills.add(p);
      }
    }
  }

  private async fill(key: Key): Promise<void> {
    const id = poolId(key.agent);
    key.filling++;
    this.stock.add(id);
    try {
      await this.inner.create({ id, agent: key.agent, owner: `warm-pool:${process.pid}`, readOnly: key.readOnly });
      await this.installer!(id, key.agent);
      // Deny-all again, whatever the install phase allowed.
      await this.inner.applyPolicy(id, { agent: key.agent, phase: 'run', endpoints: [], readOnly: key.readOnly });
      if (this.closed || this.keys.get(keyName(key.agent, key.readOnly)) !== key) throw new Error('pool closed or key dropped');
      key.ready.push({ id, installed: this.uploads.get(id) ?? null });
    } catch {
      if (!this.closed) key.retryAt = Date.now() + this.retryMs;
      this.discard(id);
      if (key.retryAt > Date.now()) setTimeout(() => this.pump(), this.retryMs).unref();
    } finally {
      key.filling--;
    }
  }
}
