import { spawn } from 'node:child_process';
import type { AgentName, Sources } from '../schemas/agent';
import { WarmPool } from '../sandbox/pool';
import { summarize, timed, type Summary } from './stats';
import { benchSandboxId, plainCreate, plainDelete, plainExec, plainInstall, plainPolicy, type PlainDeps } from './steps';

export const STEPS = ['create', 'install', 'policy', 'exec', 'delete'] as const;
export type Step = (typeof STEPS)[number];

export interface LifecycleResult {
  /** A warm sandbox has no install step: it was installed ahead (its lookup counts in the total). */
  steps: Partial<Record<Step, Summary>>;
  /** The five steps of one sandbox, end to end. */
  total: Summary;
  /** The sandbox's own cost: create + policy + exec + delete (install is the agent's start-up). */
  sandboxOnly: Summary;
}

/**
 * The floor: bubblewrap alone running /bin/true with /usr bound and nothing else (no uid drop, no
 * limits, no proxy bridge), measured in the same process right after the lifecycle runs, so the
 * lifecycle can be read as a ratio to it on whatever machine ran the bench.
 */
export async function bareBwrap(runs: number): Promise<Summary> {
  const argv = ['--unshare-pid', '--unshare-net', '--ro-bind', '/usr', '/usr', '--symlink', 'usr/bin', '/bin', '--symlink', 'usr/lib', '/lib', '--symlink', 'usr/lib64', '/lib64', '--proc', '/proc', '--dev', '/dev', '--', '/bin/true'];
  const out: number[] = [];
  for (let i = 0; i < runs; i++) {
    const { ms } = await timed(
      () =>
        new Promise<void>((resolve, reject) =>
          spawn('bwrap', argv, { stdio: 'ignore' })
            .once('error', reject)
            .once('exit', (code) => (code === 0 ? resolve() : reject(new Error(`bare bwrap exited ${code}`)))),
        ),
    );
    out.push(ms);
  }
  return summarize(out);
}

/** Collects lifecycle runs one at a time, so cold and warm runs can be interleaved. */
export class LifecycleSamples {
  private readonly steps: Record<Step, number[]> = { create: [], install: [], policy: [], exec: [], delete: [] };
  private readonly totals: number[] = [];
  private readonly sandboxTotals: number[] = [];

  constructor(
    private readonly d: PlainDeps,
    private readonly agent: AgentName,
    private readonly sources: Sources,
  ) {}

  /**
   * One sandbox: create -> install (upload + self-check) -> run policy -> exec of /bin/true ->
   * delete. With a pool, create is a claim and install a lookup; the pool is full first, so this
   * is the warm path, not a pool that ran dry. `record: false` is a warm-up.
   */
  async once(record = true): Promise<void> {
    const { d, agent, sources } = this;
    const pool = d.driver instanceof WarmPool ? d.driver : null;
    await pool?.whenFull();
    const id = benchSandboxId();
    const took: Partial<Record<Step, number>> = {};
    const step = async (name: Step, fn: () => Promise<void>) => {
      took[name] = (await timed(fn)).ms;
    };
    try {
      await step('create', () => plainCreate(d, id, agent, sources));
      await step('install', () => plainInstall(d, id, agent));
      await step('policy', () => plainPolicy(d, id, agent, sources));
      await step('exec', () => plainExec(d, id, ['/bin/true']));
    } finally {
      await step('delete', () => plainDelete(d, id));
    }
    if (!record) return;
    for (const s of STEPS) if (!(pool && s === 'install')) this.steps[s].push(took[s]!);
    this.totals.push(STEPS.reduce((sum, s) => sum + took[s]!, 0));
    this.sandboxTotals.push(took.create! + took.policy! + took.exec! + took.delete!);
  }

  result(): LifecycleResult {
    const steps: Partial<Record<Step, Summary>> = Object.fromEntries(STEPS.filter((s) => this.steps[s].length).map((s) => [s, summarize(this.steps[s])]));
    return { steps, total: summarize(this.totals), sandboxOnly: summarize(this.sandboxTotals) };
  }
}
