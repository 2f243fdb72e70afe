import { constants } from 'node:fs';
import { lstat, open, readdir, realpath, stat, type FileHandle } from 'node:fs/promises';
import path from 'node:path';
import { InputError } from '../errors';

/**
 * Host-side access to a scenario's untrusted files. A scenario is data someone else wrote: a file
 * may be a symlink to a secret, a FIFO that never ends, a device, a directory with a file's name.
 * Everything here stays inside the scenario's real directory, opens only regular files (never
 * following a final symlink: O_NOFOLLOW on the checked real path) and reads a bounded prefix.
 */

/** Bytes of scenario.yaml we read at most. */
export const MAX_SCENARIO_YAML_BYTES = 1 << 20;
/** An OpenMetrics file larger than this is refused before promtool sees it. */
export const MAX_OM_FILE_BYTES = 256 << 20;

function kindOf(s: { isDirectory(): boolean; isFIFO(): boolean; isSocket(): boolean; isCharacterDevice(): boolean; isBlockDevice(): boolean; isSymbolicLink(): boolean }): string {
  if (s.isDirectory()) return 'a directory';
  if (s.isFIFO()) return 'a FIFO (named pipe)';
  if (s.isSocket()) return 'a socket';
  if (s.isCharacterDevice() || s.isBlockDevice()) return 'a device';
  if (s.isSymbolicLink()) return 'a symbolic link';
  return 'not a regular file';
}

export const inside = (root: string, p: string) => p === root || p.startsWith(root.endsWith(path.sep) ? root : root + path.sep);

/** The scenario dir's real path (the user may pass a link to it; what is inside is then checked). */
export async function scenarioRoot(dirArg: string): Promise<string> {
  const abs = path.resolve(dirArg);
  const real = await realpath(abs).catch(() => null);
  if (!real || !(await stat(real).then((s) => s.isDirectory(), () => false))) {
    throw new InputError('--scenario', `${dirArg} is not a directory`);
  }
  return real;
}

/**
 * Resolves ROOT/rel without leaving ROOT: a symlink is followed only if it stays inside, and a
 * dangling one is an error. Returns null when nothing is there.
 */
export async function resolveInside(root: string, rel: string): Promise<string | null> {
  const p = path.join(root, rel);
  const l = await lstat(p).catch(() => null);
  if (!l) return null;
  if (!l.isSymbolicLink()) return p;
  const real = await realpath(p).catch(() => null);
  if (!real) throw new InputError(rel, 'is a dangling symbolic link');
  if (!inside(root, real)) throw new InputError(rel, 'is a symbolic link that leads out of the scenario directory; refused');
  return real;
}

/** ROOT/sub as a directory inside ROOT, or null when absent. */
export async function subdir(root: string, sub: string): Promise<string | null> {
  const p = await resolveInside(root, sub);
  if (!p) return null;
  const s = await stat(p);
  if (!s.isDirectory()) throw new InputError(sub, `is ${kindOf(s)}, expected a directory`);
  return p;
}

export interface CheckedFile {
  /** Scenario-relative name used in messages, e.g. logs/app.jsonl. */
  rel: string;
  /** Real path inside the scenario. */
  path: string;
  size: number;
}

/**
 * Every entry of DIR is checked (a link out of the scenario is refused whatever its name, since
 * the whole dir is mounted into a sandbox); the ones ending in one of `exts` must be regular files
 * of at most maxBytes.
 */
export async function checkedFiles(root: string, sub: string, exts: string[], maxBytes = Infinity): Promise<CheckedFile[]> {
  const dir = await subdir(root, sub);
  if (!dir) return [];
  const out: CheckedFile[] = [];
  for (const name of (await readdir(dir)).sort()) {
    const rel = `${sub}/${name}`;
    const real = await resolveInside(root, path.relative(root, path.join(dir, name)));
    if (!real) continue;
    if (!exts.some((e) => name.toLowerCase().endsWith(e))) continue;
    const s = await stat(real);
    if (!s.isFile()) throw new InputError(rel, `is ${kindOf(s)}, not a regular file`);
    if (s.size > maxBytes) throw new InputError(rel, `is ${s.size} bytes; the limit is ${maxBytes} bytes`);
    out.push({ rel, path: real, size: s.size });
  }
  return out;
}

/**
 * Opens a checked path read-only without following a final symlink and without blocking on a
 * FIFO swapped in since the check, then confirms it is still a regular file.
 */
export async function openRegular(p: string, rel: string): Promise<FileHandle> {
  let fh: FileHandle;
  try {
    fh = await open(p, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new InputError(rel, code === 'ELOOP' ? 'is a symbolic link; refused' : `cannot be read (${code ?? 'error'})`);
  }
  const s = await fh.stat();
  if (!s.isFile()) {
    await fh.close();
    throw new InputError(rel, `is ${kindOf(s)}, not a regular file`);
  }
  return fh;
}

/** At most maxBytes of a checked regular file, as UTF-8. */
export async function readPrefix(p: string, rel: string, maxBytes: number): Promise<{ text: string; truncated: boolean }> {
  const fh = await openRegular(p, rel);
  try {
    const buf = Buffer.alloc(Math.min(maxBytes, (await fh.stat()).size) + 1);
    let n = 0;
    while (n < buf.length) {
      const r = await fh.read(buf, n, buf.length - n, n);
      if (!r.bytesRead) break;
      n += r.bytesRead;
    }
    const truncated = n > maxBytes;
    return { text: buf.subarray(0, Math.min(n, maxBytes)).toString('utf8'), truncated };
  } finally {
    await fh.close();
  }
}
