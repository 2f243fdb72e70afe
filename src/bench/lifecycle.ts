import { randomBytes } from 'node:crypto';
import type { AgentName, Sources } from '../schemas/agent';
import { WarmPool } from '../sandbox/pool';
import { summarize, timed, type Summary } from './stats';
import { plainCreate, plainDelete, plainExec, plainInstall, plainPolicy, type PlainDeps } from './steps';

export const STEPS = ['create', 'install', 'policy', 'exec', 'delete'] as const;
export type Step = (typeof STEPS)[number];

export interface LifecycleResult {
  steps: Partial<Record<Step, Summary>>;
  /** The five steps of one sandbox, end to end. */
  total: Summary;
}

/**
 * One sandbox at a time: create -> install (upload + self-check) -> run policy -> exec of
 * /bin/true -> delete, `iterations` times. With a pool, create is a claim and install is skipped
 * (the stock was installed ahead); each iteration waits for the pool to be full again first, so
 * this is the warm path, not a pool that ran dry.
 */
export async function measureLifecycle(d: PlainDeps, agent: AgentName, sources: Sources, iterations: number): Promise<LifecycleResult> {
  const pool = d.driver instanceof WarmPool ? d.driver : null;
  const samples: Record<Step, number[]> = { create: [], install: [], policy: [], exec: [], delete: [] };
  const totals: number[] = [];
  for (let i = 0; i < iterations; i++) {
    await pool?.whenFull();
    const id = `bh-bench-${randomBytes(4).toString('hex')}-0`;
    const step = async (name: Step, fn: () => Promise<void>) => {
      const { ms } = await timed(fn);
      // A warm sandbox's install is a lookup (it was installed ahead): counted in the total, not shown as a step.
      if (!(pool && name === 'install')) samples[name].push(ms);
      return ms;
    };
    let total = 0;
    try {
      total += await step('create', () => plainCreate(d, id, agent, sources));
      total += await step('install', () => plainInstall(d, id, agent));
      total += await step('policy', () => plainPolicy(d, id, agent, sources));
      total += await step('exec', () => plainExec(d, id, ['/bin/true']));
    } finally {
      total += await step('delete', () => plainDelete(d, id));
    }
    totals.push(total);
  }
  const steps: Partial<Record<Step, Summary>> = Object.fromEntries(STEPS.filter((s) => samples[s].length).map((s) => [s, summarize(samples[s])]));
  return { steps, total: summarize(totals) };
}
