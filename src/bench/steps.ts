import { randomBytes } from 'node:crypto';
import { redactDeep } from '../agents/redact';
import { AgentResult, type AgentName, type Incident, type Sources } from '../schemas/agent';
import type { SandboxDriver } from '../sandbox/driver';
import { loadPolicy, resolvePolicy, type Targets } from '../sandbox/policy';
import { kindBase, sandboxName } from '../workflows/ids';

/**
 * The specialist lifecycle as plain driver calls, no Temporal: the same steps, inputs and checks
 * as the sandbox activities (src/activities/sandbox.ts), so the baseline does the same work.
 */
export interface PlainDeps {
  driver: SandboxDriver;
  /** The agent bundle (buildAgentBundle). */
  bundle: string;
  targets: Targets;
  model: { url: string; name: string } | null;
}

const AGENT_FILE = 'agent.mjs';

/** Named like a workflow's sandbox (workflows/ids.ts: bh-<kind>-<tag12>-<n>), so it is handled like one. */
export const benchSandboxId = (): string => sandboxName(kindBase('b', randomBytes(16).toString('hex')), 0);
const NODE = '/usr/bin/node';

export async function plainCreate(d: PlainDeps, id: string, agent: AgentName, sources: Sources): Promise<void> {
  const policy = resolvePolicy(await loadPolicy(agent), 'run', d.targets, sources);
  await d.driver.create({ id, agent, owner: 'bench', readOnly: policy.readOnly });
}

export async function plainInstall(d: PlainDeps, id: string, agent: AgentName): Promise<void> {
  if (d.driver.preinstalled?.(id, d.bundle, AGENT_FILE)) return;
  const policy = await loadPolicy(agent);
  if (policy.install.endpoints.length) await d.driver.applyPolicy(id, resolvePolicy(policy, 'install', {}, {}));
  await d.driver.upload(id, d.bundle, AGENT_FILE);
  const check = await d.driver.exec(id, [NODE, AGENT_FILE, '--self-check'], { timeoutMs: 30_000 });
  if (check.exitCode !== 0) throw new Error(`agent self-check exited ${check.exitCode}: ${check.stderr.slice(-300)}`);
}

export async function plainPolicy(d: PlainDeps, id: string, agent: AgentName, sources: Sources): Promise<void> {
  await d.driver.applyPolicy(id, resolvePolicy(await loadPolicy(agent), 'run', d.targets, sources));
}

export async function plainExec(d: PlainDeps, id: string, argv: string[]): Promise<void> {
  const r = await d.driver.exec(id, argv, { timeoutMs: 30_000 });
  if (r.exitCode !== 0) throw new Error(`${argv.join(' ')} exited ${r.exitCode}: ${r.stderr.slice(-300)}`);
}

export async function plainRun(d: PlainDeps, id: string, agent: AgentName, task: string, incident: Incident, sources: Sources): Promise<AgentResult> {
  const policy = await loadPolicy(agent);
  const t = d.targets;
  const input = {
    agent,
    task,
    incident,
    sources: {
      ...(policy.filesystem.read_only.includes('logs') && sources.logsDir ? { logsDir: sources.logsDir } : {}),
      ...(policy.filesystem.read_only.includes('runbooks') && sources.runbooksDir ? { runbooksDir: sources.runbooksDir } : {}),
      ...(policy.network.endpoints.some((e) => e.target === 'prometheus') && t.prometheus ? { prometheusUrl: t.prometheus } : {}),
    },
    model: d.model,
  };
  const res = await d.driver.exec(id, [NODE, AGENT_FILE], { stdin: JSON.stringify(input), timeoutMs: policy.limits.run_timeout_seconds * 1000 });
  if (res.exitCode !== 0) throw new Error(`${agent} exited ${res.exitCode}: ${res.stderr.trim().split('\n').at(-1)}`);
  return redactDeep(AgentResult.parse(JSON.parse(res.stdout))) as AgentResult;
}

export async function plainDelete(d: PlainDeps, id: string): Promise<void> {
  await d.driver.denials(id).catch(() => []);
  await d.driver.delete(id);
}
