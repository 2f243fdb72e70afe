import type { ResolvedPolicy, SandboxRole } from '../schemas/policy';

/** What a sandbox is created with. Filesystem rules are fixed at creation; network is live. */
export interface SandboxSpec {
  /** Chosen by the caller (deterministic per workflow run), so create is idempotent on retry. */
  id: string;
  agent: SandboxRole;
  /** The workflow that owns this sandbox; the reaper deletes sandboxes whose owner is closed. */
  owner: string;
  /** Host paths readable inside the sandbox, read-only, at the same path. */
  readOnly: string[];
  /**
   * Kept with the sandbox where any process can read them back (local: its state; OpenShell:
   * the gateway): managed-by, stack, owner and agent (src/sandbox/labels.ts), stamped by
   * src/sandbox/stack.ts. The reaper touches only sandboxes carrying its own stack's.
   */
  labels?: Record<string, string>;
}

export interface ExecOptions {
  env?: Record<string, string>;
  timeoutMs?: number;
  stdin?: string;
  /** Called with stderr chunks as they arrive (progress lines). */
  onStderr?: (chunk: string) => void;
  signal?: AbortSignal;
}

export interface ExecResult {
  exitCode: number;
  stdout: string;
  stderr: string;
  timedOut: boolean;
  /** Set when the command ran into a sandbox limit (the local driver); the message says which. */
  limit?: { kind: 'memory' | 'processes' | 'cpu'; message: string };
}

/** A request the policy refused. `binary` is null where the driver cannot tell (local). */
export interface Denial {
  host: string;
  port: number;
  binary: string | null;
  reason: string;
}

export interface SandboxInfo {
  id: string;
  owner: string | null;
  agent: string | null;
  createdAt: string | null;
  /** False when its controlling process is gone (local driver after a worker crash) or it failed (OpenShell Error phase). */
  alive: boolean;
  /** As created; {} for a sandbox made without labels (by someone else, or an older Bulkhead). */
  labels: Record<string, string>;
}

export interface SandboxDriver {
  readonly kind: 'local' | 'openshell';
  /** Parts of a policy this driver cannot enforce, said once at start-up and in the report. */
  readonly limitations: string[];
  /** Creates the sandbox, deny-all network. Creating an id that exists returns it unchanged. */
  create(spec: SandboxSpec): Promise<string>;
  exec(id: string, argv: string[], opts?: ExecOptions): Promise<ExecResult>;
  /** Copies a host file into the sandbox; dest is relative to the sandbox workdir. */
  upload(id: string, localPath: string, dest: string): Promise<void>;
  /** Replaces the network policy live; returns once it is in force. */
  applyPolicy(id: string, policy: ResolvedPolicy): Promise<void>;
  /** Idempotent: deleting a missing sandbox succeeds. */
  delete(id: string): Promise<void>;
  list(): Promise<SandboxInfo[]>;
  denials(id: string): Promise<Denial[]>;
  /**
   * Optional (the warm pool): true when the sandbox already holds exactly this file at dest,
   * installed and self-checked before it was claimed, so the install step may be skipped.
   */
  preinstalled?(id: string, file: string, dest: string): boolean;
  /** Optional: what must hold before a worker starts (CLI version, ssh), with a clear message. */
  preflight?(): Promise<void>;
}

/** Typed errors so activities can mark permanent failures non-retryable where they arise. */
export class SandboxError extends Error {
  constructor(
    message: string,
    readonly type: 'SandboxLost' | 'SandboxCreateFailed' | 'PolicyRejected' | 'SandboxMissing' | 'DriverUnavailable',
    readonly retryable: boolean,
  ) {
    super(message);
    this.name = type;
  }
}
