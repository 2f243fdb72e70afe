import type { ResolvedPolicy } from '../schemas/policy';
import type { Denial, ExecOptions, ExecResult, SandboxDriver, SandboxInfo, SandboxSpec } from './driver';
import { bulkheadLabels, ownedByStack } from './labels';

/**
 * A driver seen from one stack (src/sandbox/labels.ts stackIdentity): every sandbox it creates
 * carries Bulkhead's labels with this stack's identity, and `list` shows only those. So nothing
 * that lists through it (the reaper, the warm pool) ever sees, let alone deletes, a sandbox of
 * another stack sharing the same sandbox root or OpenShell gateway, or one Bulkhead never made.
 */
export class StackDriver implements SandboxDriver {
  readonly kind: SandboxDriver['kind'];
  readonly limitations: string[];

  constructor(
    readonly inner: SandboxDriver,
    readonly stack: string,
  ) {
    this.kind = inner.kind;
    this.limitations = inner.limitations;
  }

  create(spec: SandboxSpec): Promise<string> {
    return this.inner.create({ ...spec, labels: { ...spec.labels, ...bulkheadLabels(this.stack, spec.owner, spec.agent) } });
  }

  async list(): Promise<SandboxInfo[]> {
    return (await this.inner.list()).filter((s) => ownedByStack(s.labels, this.stack));
  }

  exec(id: string, argv: string[], opts?: ExecOptions): Promise<ExecResult> {
    return this.inner.exec(id, argv, opts);
  }
  upload(id: string, localPath: string, dest: string): Promise<void> {
    return this.inner.upload(id, localPath, dest);
  }
  applyPolicy(id: string, policy: ResolvedPolicy): Promise<void> {
    return this.inner.applyPolicy(id, policy);
  }
  delete(id: string): Promise<void> {
    return this.inner.delete(id);
  }
  denials(id: string): Promise<Denial[]> {
    return this.inner.denials(id);
  }
  preinstalled(id: string, file: string, dest: string): boolean {
    return this.inner.preinstalled?.(id, file, dest) ?? false;
  }
  async preflight(): Promise<void> {
    await this.inner.preflight?.();
  }
}

/** The driver for `stack`, unless it already is one. */
export function forStack(driver: SandboxDriver, stack: string): StackDriver {
  return driver instanceof StackDriver && driver.stack === stack ? driver : new StackDriver(driver, stack);
}
