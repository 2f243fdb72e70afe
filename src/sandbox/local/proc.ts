import { readFile, readdir } from 'node:fs/promises';

/** NUL-separated argv of a live process, or null when it is gone. */
export async function cmdline(pid: number): Promise<string | null> {
  try {
    return (await readFile(`/proc/${pid}/cmdline`, 'utf8')).replace(/\0/g, ' ');
  } catch {
    return null;
  }
}

/** Zombies count as gone: they hold nothing but a table slot until their parent reaps them. */
export async function isRunning(pid: number): Promise<boolean> {
  try {
    const stat = await readFile(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    return false;
  }
}

/** A process's start time (clock ticks since boot), to tell a pid from a recycled one; null when gone. */
export async function startTime(pid: number): Promise<string | null> {
  try {
    const stat = await readFile(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19] ?? null;
  } catch {
    return null;
  }
}

/** The controlling process is alive when its pid runs and started when the recorded one did. */
export async function isController(pid: number, start: string | undefined): Promise<boolean> {
  return (await isRunning(pid)) && (start === undefined || (await startTime(pid)) === start);
}

/** Pids under /proc (this process excluded) for which the test holds; vanished ones are skipped. */
async function processesWhere(test: (pid: number) => Promise<boolean>): Promise<number[]> {
  let entries: string[];
  try {
    entries = await readdir('/proc');
  } catch {
    return [];
  }
  const pids = entries.filter((e) => /^\d+$/.test(e)).map(Number).filter((pid) => pid !== process.pid);
  const hits = await Promise.all(pids.map((pid) => test(pid).catch(() => false)));
  return pids.filter((_, i) => hits[i]);
}

/** Every live process running as this host uid (a sandbox's own: nothing else uses it). */
export function processesOfUid(uid: number): Promise<number[]> {
  return processesWhere(async (pid) => {
    const status = await readFile(`/proc/${pid}/status`, 'utf8');
    const m = /^Uid:\s+(\d+)\s+(\d+)\s+(\d+)/m.exec(status);
    const state = /^State:\s+(\S)/m.exec(status)?.[1];
    return !!m && state !== 'Z' && [m[1], m[2], m[3]].includes(String(uid));
  });
}

/** Every live process whose argv mentions the path (bwrap, the daemon, ...). */
export function processesMentioning(needle: string): Promise<number[]> {
  return processesWhere(async (pid) => !!(await cmdline(pid))?.includes(needle) && (await isRunning(pid)));
}

export function signal(pid: number, sig: NodeJS.Signals): void {
  try {
    process.kill(pid, sig);
  } catch {
    // already gone
  }
}

export async function waitGone(pids: number[], ms: number): Promise<boolean> {
  const deadline = Date.now() + ms;
  for (;;) {
    const alive = (await Promise.all(pids.map(isRunning))).some(Boolean);
    if (!alive) return true;
    if (Date.now() >= deadline) return false;
    await new Promise((r) => setTimeout(r, 20));
  }
}
