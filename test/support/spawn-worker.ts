import { readFileSync } from 'node:fs';
import path from 'node:path';
import { supervise, type Supervised } from '../../src/stack/proc';
import { REPO_ROOT } from '../../src/stack/tools';

const ENTRY = path.join(REPO_ROOT, 'test/support/worker-process.ts');

export interface WorkerProcess {
  pid: number;
  proc: Supervised;
  /** Peak resident memory so far (VmHWM), in MiB; null once the process is gone. */
  peakRssMiB(): number | null;
  kill(): Promise<void>;
  stop(): Promise<void>;
}

/**
 * Starts test/support/worker-process.ts with the given environment on top of PATH and HOME only
 * (nothing else of the runner's environment leaks in), and waits until it polls.
 */
export async function spawnWorker(env: Record<string, string | undefined>): Promise<WorkerProcess> {
  const clean = Object.fromEntries(Object.entries(env).filter(([, v]) => v !== undefined)) as Record<string, string>;
  let ready = false;
  const proc = supervise(process.execPath, ['--import', 'tsx', ENTRY], {
    cwd: REPO_ROOT,
    env: { PATH: process.env.PATH, HOME: process.env.HOME, ...clean },
    log: (l) => {
      if (l === 'worker ready') ready = true;
      if (process.env.BULKHEAD_TEST_LOG) console.error(`[worker] ${l}`);
    },
  });
  const deadline = Date.now() + 60_000;
  while (!ready) {
    if (proc.child.exitCode !== null || proc.child.signalCode !== null) throw new Error(`worker exited early:\n${proc.tail()}`);
    if (Date.now() > deadline) {
      await proc.stop();
      throw new Error(`worker not ready in 60 s:\n${proc.tail()}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  return {
    pid: proc.pid,
    proc,
    peakRssMiB() {
      try {
        const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${proc.pid}/status`, 'utf8'));
        return m ? Math.round(Number(m[1]) / 1024) : null;
      } catch {
        return null;
      }
    },
    async kill() {
      proc.child.kill('SIGKILL');
      await proc.exited;
    },
    stop: () => proc.stop(20_000),
  };
}
