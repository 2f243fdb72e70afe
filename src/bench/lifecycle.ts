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
}

/** Collects lifecycle runs one at a time, so cold and warm runs can be interleaved. */
export class LifecycleSamples {
  private readonly steps: Record<Step, number[]> = { create: [], install: [], policy: [], exec: [], delete: [] };
  private readonly totals: number[] = [];

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
  }

  result(): LifecycleResult {
    const steps: Partial<Record<Step, Summary>> = Object.fromEntries(STEPS.filter((s) => this.steps[s].length).map((s) => [s, summarize(this.steps[s])]));
    return { steps, total: summarize(this.totals) };
  }
}
