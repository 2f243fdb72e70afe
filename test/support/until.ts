import { readFile } from 'node:fs/promises';

/** Polls check() until it holds; fails with `what` after timeoutMs (generous: the machine is shared). */
export async function until(check: () => Promise<boolean> | boolean, timeoutMs = 60_000, what = 'condition'): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > end) throw new Error(`${what} not met in ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

export interface RunLogEntry {
  sandbox: string;
  event: 'start' | 'end';
  exitCode?: number;
  pid: number;
  at: number;
}

/** The agent runs a worker-process recorded (BULKHEAD_TEST_RUN_LOG), in order. */
export async function readRunLog(file: string): Promise<RunLogEntry[]> {
  const text = await readFile(file, 'utf8').catch(() => '');
  return text.split('\n').filter(Boolean).map((l) => JSON.parse(l) as RunLogEntry);
}

/** A sandbox id without its incarnation: one per runSpecialist run, whichever sandbox it used. */
export const specialistOf = (sandboxId: string) => sandboxId.replace(/-\d+$/, '');
