import { loadScenario } from '../scenario/load';
import type { AgentResult } from '../schemas/agent';
import { benchSandboxId, plainCreate, plainDelete, plainInstall, plainPolicy, plainRun, type PlainDeps } from './steps';
import type { BenchTask } from './tasks';

/**
 * The no-Temporal baseline: a plain function that loads the scenario and, for each of the three
 * specialists, creates a sandbox, installs the agent, applies its policy, runs it and deletes
 * the sandbox. Sequential is the seed's dispatch (one specialist after another); parallel runs
 * the three at once with Promise.all.
 */
export async function runBaseline(
  d: PlainDeps,
  scenarioDir: string,
  tasks: BenchTask[],
  mode: 'sequential' | 'parallel',
): Promise<{ results: AgentResult[]; specialistMs: number[] }> {
  const { incident, sources } = await loadScenario(scenarioDir);
  const specialistMs: number[] = [];
  const one = async (t: BenchTask): Promise<AgentResult> => {
    const id = benchSandboxId();
    const t0 = performance.now();
    try {
      await plainCreate(d, id, t.agent, sources);
      await plainInstall(d, id, t.agent);
      await plainPolicy(d, id, t.agent, sources);
      return await plainRun(d, id, t.agent, t.task, incident, sources);
    } finally {
      await plainDelete(d, id);
      specialistMs.push(performance.now() - t0);
    }
  };
  if (mode === 'parallel') return { results: await Promise.all(tasks.map(one)), specialistMs };
  const results: AgentResult[] = [];
  for (const t of tasks) results.push(await one(t));
  return { results, specialistMs };
}
