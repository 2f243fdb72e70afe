import { createHash } from 'node:crypto';
import { readFile, readdir, writeFile, rename } from 'node:fs/promises';
import path from 'node:path';

/** What survives the controlling process on disk, so another process can list and delete it. */
export interface SandboxMeta {
  id: string;
  owner: string;
  agent: string;
  createdAt: string;
  /** The worker process that controls it (holds its proxy); `pid` is the same, for older readers. */
  pid: number;
  controllerPid: number;
  /** The controller's start time (/proc stat field 22), so a recycled pid is not taken for it. */
  controllerStart?: string;
  /** The sandbox's own unprivileged host uid: every process of it runs as this uid. */
  hostUid?: number;
  /** Its cgroup directories, when the host has writable cgroups. */
  cgroups?: string[];
  /** SandboxSpec.labels (owner, agent, stack): the reaper's proof that the sandbox is its stack's. */
  labels?: Record<string, string>;
}

export interface StatePaths {
  dir: string;
  meta: string;
  work: string;
  /** Holds the egress proxy's socket only; bound into the sandbox. */
  proxyDir: string;
  proxySocket: string;
  denials: string;
}

/**
 * Ids come from workflow ids and may hold '/' or be long; the directory name must be a single
 * safe component and short enough that the proxy's unix socket path under it fits in sun_path.
 */
export function dirName(id: string): string {
  if (/^[A-Za-z0-9][A-Za-z0-9._-]{0,39}$/.test(id)) return id;
  const safe = id.replace(/[^A-Za-z0-9._-]+/g, '_').replace(/^[._-]+/, '').slice(0, 24);
  return `${safe || 'sb'}-${createHash('sha256').update(id).digest('hex').slice(0, 12)}`;
}

export function statePaths(root: string, id: string): StatePaths {
  return statePathsIn(path.join(root, dirName(id)));
}

/** The same layout for a sandbox directory found on disk (its id is in meta.json, if anywhere). */
export function statePathsIn(dir: string): StatePaths {
  return {
    dir,
    meta: path.join(dir, 'meta.json'),
    work: path.join(dir, 'work'),
    proxyDir: path.join(dir, 'p'),
    proxySocket: path.join(dir, 'p', 'proxy.sock'),
    denials: path.join(dir, 'denials.jsonl'),
  };
}

export async function readMeta(file: string): Promise<SandboxMeta | null> {
  try {
    return JSON.parse(await readFile(file, 'utf8')) as SandboxMeta;
  } catch {
    return null;
  }
}

export async function writeJsonAtomic(file: string, value: unknown): Promise<void> {
  const tmp = `${file}.${process.pid}.tmp`;
  await writeFile(tmp, JSON.stringify(value, null, 2) + '\n');
  await rename(tmp, file);
}

export async function listDirs(root: string): Promise<string[]> {
  try {
    return (await readdir(root, { withFileTypes: true })).filter((d) => d.isDirectory()).map((d) => path.join(root, d.name));
  } catch {
    return [];
  }
}
