import { constants } from 'node:fs';
import { access, mkdtemp, realpath, rm, stat } from 'node:fs/promises';
import path from 'node:path';
import { InputError } from '../errors';
import { inside } from '../scenario/files';

/** Kernel and device trees: writing a report there hangs, fails late or does harm. */
const SYSTEM_TREES = ['/proc', '/sys', '/dev'];

/** The deepest existing ancestor of p (p itself when it exists), with its real path. */
async function existingAncestor(p: string): Promise<{ path: string; real: string }> {
  for (let cur = p; ; cur = path.dirname(cur)) {
    const real = await realpath(cur).catch(() => null);
    if (real) return { path: cur, real };
    if (path.dirname(cur) === cur) return { path: cur, real: cur };
  }
}

/** Creates and removes a probe directory: the only honest writability test (root ignores modes, not read-only mounts). */
async function probeWritable(dir: string, what: string): Promise<void> {
  try {
    await access(dir, constants.W_OK | constants.X_OK);
    const probe = await mkdtemp(path.join(dir, '.bulkhead-probe-'));
    await rm(probe, { recursive: true, force: true });
  } catch (e) {
    throw new InputError('--out', `${what} is not writable (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
  }
}

/**
 * Checks --out before anything starts, so a run never ends with nowhere to put its report:
 * a directory that exists and is writable, or can be created under a writable one; not a file,
 * not `/`, not inside /proc, /sys or /dev, not inside the scenario (its files are data; the
 * report must not land among them). Creates nothing; returns the absolute path to write to.
 */
export async function validateOut(outArg: string, scenarioDir?: string): Promise<string> {
  if (!outArg.trim()) throw new InputError('--out', 'empty path');
  if (outArg.includes('\0')) throw new InputError('--out', 'contains a NUL byte');
  const abs = path.resolve(outArg);
  const anc = await existingAncestor(abs);
  // Where the report would really land: symlinks in the existing part resolved.
  const real = path.join(anc.real, path.relative(anc.path, abs));
  if (real === '/') throw new InputError('--out', `${outArg} is the root directory; give a directory for the report`);
  const tree = SYSTEM_TREES.find((t) => inside(t, real));
  if (tree) throw new InputError('--out', `${outArg} is inside ${tree}; give an ordinary directory`);
  if (scenarioDir) {
    const scen = await realpath(scenarioDir).catch(() => path.resolve(scenarioDir));
    if (inside(scen, real)) throw new InputError('--out', `${outArg} is inside the scenario directory ${scenarioDir}; write the report elsewhere`);
  }
  const s = await stat(anc.real);
  if (anc.path === abs) {
    if (!s.isDirectory()) throw new InputError('--out', `${outArg} exists and is not a directory`);
    for (const f of ['report.json', 'report.md']) {
      const r = await stat(path.join(real, f)).catch(() => null);
      if (r && !r.isFile()) throw new InputError('--out', `${path.join(outArg, f)} exists and is not a regular file`);
    }
    await probeWritable(real, outArg);
  } else {
    if (!s.isDirectory()) throw new InputError('--out', `${anc.path} is not a directory, so ${outArg} cannot be created`);
    await probeWritable(anc.real, `${anc.path} (where ${outArg} would be created)`);
  }
  return abs;
}
