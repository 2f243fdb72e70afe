import { createHash } from 'node:crypto';
import { readFile, readdir, writeFile, rename } from 'node:fs/promises';
import path from 'node:path';

/** What survives the controlling process on disk, so another process can list and delete it. */
export interface SandboxMeta {
  id: string;
  owner: string;
  agent: string;
  createdAt: string;
  /** srt's pid; also its process group id (spawned detached). */
  pid: number;
  pgid: number;
  /** The worker process that controls it. */
  controllerPid: number;
  /** SandboxSpec.labels (owner, agent, stack): the reaper's proof that the sandbox is its stack's. */
  labels?: Record<string, string>;
}

export interface StatePaths {
  dir: string;
  meta: string;
  settings: string;
  daemon: string;
  work: string;
  /** srt's TMPDIR: its proxy sockets land here and go with the directory. */
  tmp: string;
  denials: string;
}

/**
 * Ids come from workflow ids and may hold '/' or be long; the directory name must be a single
 * safe component and short enough that srt's unix socket paths under it fit in sun_path.
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
    settings: path.join(dir, 'settings.json'),
    daemon: path.join(dir, 'daemon.mjs'),
    work: path.join(dir, 'work'),
    tmp: path.join(dir, 't'),
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
