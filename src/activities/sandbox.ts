import { Context } from '@temporalio/activity';
import { ApplicationFailure, ApplicationFailureCategory } from '@temporalio/common';
import type { Config } from '../config';
import { redactDeep } from '../agents/redact';
import { sanitizeAgentResult } from '../agents/sanitize';
import { visibleText } from '../report/text';
import { type AgentName, AgentResult, type Incident, type Sources } from '../schemas/agent';
import type { Denial } from '../schemas/report';
import { type SandboxDriver, SandboxError } from '../sandbox/driver';
import { loadPolicy, PolicyError, resolvePolicy, type Targets } from '../sandbox/policy';
import { heartbeating } from './heartbeat';

export interface SandboxActivityDeps {
  driver: SandboxDriver;
  config: Config;
  /** The bundled agent runner (one self-contained .mjs), built once per worker. */
  agentBundle: () => Promise<string>;
  policyDir?: string;
}

const AGENT_FILE = 'agent.mjs';
const NODE = '/usr/bin/node';

/** Marks permanent failures non-retryable where they arise; everything else Temporal retries. */
export function sandboxFailure(e: unknown): unknown {
  if (e instanceof PolicyError) return ApplicationFailure.nonRetryable(e.message, 'PolicyInvalid');
  if (e instanceof SandboxError) {
    return e.retryable ? ApplicationFailure.retryable(e.message, e.type) : ApplicationFailure.nonRetryable(e.message, e.type);
  }
  return e;
}
/** The agent reads these as the Authorization header of its Prometheus / Loki requests. */
export const PROMETHEUS_AUTH_ENV = 'BULKHEAD_PROMETHEUS_AUTHORIZATION';
export const LOKI_AUTH_ENV = 'BULKHEAD_LOKI_AUTHORIZATION';
export function sourceAuthEnv(granted: Sources, asked: Sources, env: NodeJS.ProcessEnv = process.env): Record<string, string> {
  const out: Record<string, string> = {};
  const read = (name: string | undefined) => (name ? env[name] : undefined);
  const prom = granted.prometheusUrl ? read(asked.prometheusAuthEnv) : undefined;
  const loki = granted.lokiUrl ? read(asked.lokiAuthEnv) : undefined;
  if (prom) out[PROMETHEUS_AUTH_ENV] = prom;
  if (loki) out[LOKI_AUTH_ENV] = loki;
  if (granted.lokiUrl && asked.lokiTenant) out.BULKHEAD_LOKI_TENANT = asked.lokiTenant;
  return out;
}
/** Runs one step, heartbeating, with permanent failures marked where they arise. */
async function guard<T>(fn: () => Promise<T>): Promise<T> {
  try {
    return await heartbeating(3000, fn);
  } catch (e) {
    throw sandboxFailure(e);
  }
}

export function createSandboxActivities(deps: SandboxActivityDeps) {
  const { driver, config } = deps;
  const targets = (sources: Sources): Targets => ({
    model: config.BULKHEAD_MODEL_URL,
    prometheus: sources.prometheusUrl ?? config.PROMETHEUS_URL,
    loki: sources.lokiUrl ?? config.LOKI_URL,
    anthropic: config.ANTHROPIC_BASE_URL,
  });
  const policyFor = (agent: AgentName) => loadPolicy(agent, deps.policyDir);
  const runPolicy = async (agent: AgentName, sources: Sources) => resolvePolicy(await policyFor(agent), 'run', targets(sources), sources);
  // Sandboxes this worker created and has not deleted: what its cap counts. Counted from create
  // to delete, including a failed create (its delete still runs and releases the slot).
  const owned = new Set<string>();

  return {
    async sandboxDriverInfo(): Promise<{ kind: string; limitations: string[] }> {
      return { kind: driver.kind, limitations: driver.limitations };
    },

    /**
     * Deny-all network; the data mounts the policy names, read-only. Idempotent on the id. At the
     * worker's cap (BULKHEAD_MAX_SANDBOXES) it fails retryably and soon, rather than waiting here:
     * a waiting create would hold an activity slot that a running sandbox needs to finish.
     */
    async createSandbox(a: { id: string; agent: AgentName; owner: string; sources: Sources }): Promise<void> {
      if (!owned.has(a.id) && owned.size >= config.BULKHEAD_MAX_SANDBOXES) {
        throw ApplicationFailure.create({
          message: `worker at its cap of ${config.BULKHEAD_MAX_SANDBOXES} live sandboxes (BULKHEAD_MAX_SANDBOXES)`,
          type: 'SandboxCapacity',
          nextRetryDelay: '1s',
          // Waiting for a slot is expected under load: logged at DEBUG, not as a failure.
          category: ApplicationFailureCategory.BENIGN,
        });
      }
      owned.add(a.id);
      await guard(async () => {
        const policy = await runPolicy(a.agent, a.sources);
        await driver.create({ id: a.id, agent: a.agent, owner: a.owner, readOnly: policy.readOnly });
      });
    },

    /**
     * Installs the agent runner. The install-phase allowance (a package registry, if the policy
     * names one) is in force only during this step; the run policy replaces it next.
     */
    async installAgent(a: { id: string; agent: AgentName }): Promise<void> {
      await guard(async () => {
        const bundle = await deps.agentBundle();
        // A warm-pool sandbox got this very bundle, self-checked, before it was claimed.
        if (driver.preinstalled?.(a.id, bundle, AGENT_FILE)) return;
        const policy = await policyFor(a.agent);
        if (policy.install.endpoints.length) {
          await driver.applyPolicy(a.id, resolvePolicy(policy, 'install', targets({}), {}));
        }
        await driver.upload(a.id, bundle, AGENT_FILE);
        const check = await driver.exec(a.id, [NODE, AGENT_FILE, '--self-check'], { timeoutMs: 30_000 });
        if (check.exitCode !== 0) {
          throw ApplicationFailure.retryable(`agent self-check exited ${check.exitCode}: ${check.stderr.slice(-300)}`, 'InstallFailed');
        }
      });
    },

    async applyAgentPolicy(a: { id: string; agent: AgentName; sources: Sources }): Promise<{ endpoints: string[] }> {
      return guard(async () => {
        const policy = await runPolicy(a.agent, a.sources);
        await driver.applyPolicy(a.id, policy);
        return { endpoints: policy.endpoints.map((e) => `${e.host}:${e.port}`) };
      });
    },

    /**
     * Runs the specialist. Its input goes on stdin; the model key goes in its environment from
     * the worker's own, never through workflow history. What comes back is validated and
     * redacted once more here: the sandbox is not trusted to have done it.
     */
    async runAgent(a: { id: string; agent: AgentName; task: string; incident: Incident; sources: Sources }): Promise<AgentResult> {
      const ctx = Context.current();
      const policy = await guard(() => policyFor(a.agent));
      const t = targets(a.sources);
      const input = {
        agent: a.agent,
        task: a.task,
        incident: a.incident,
        sources: {
          ...(policy.filesystem.read_only.includes('logs') && a.sources.logsDir ? { logsDir: a.sources.logsDir } : {}),
          ...(policy.filesystem.read_only.includes('logs') && a.sources.logDirs?.length ? { logDirs: a.sources.logDirs } : {}),
          ...(policy.filesystem.read_only.includes('logs') && a.sources.logTimezone ? { logTimezone: a.sources.logTimezone } : {}),
          ...(policy.filesystem.read_only.includes('runbooks') && a.sources.runbooksDir ? { runbooksDir: a.sources.runbooksDir } : {}),
          ...(policy.network.endpoints.some((e) => e.target === 'prometheus') && t.prometheus ? { prometheusUrl: t.prometheus } : {}),
          ...(policy.network.endpoints.some((e) => e.target === 'loki') && t.loki ? { lokiUrl: t.loki } : {}),
        },
        model: config.BULKHEAD_MODEL_URL && config.BULKHEAD_MODEL ? { url: config.BULKHEAD_MODEL_URL, name: config.BULKHEAD_MODEL } : null,
      };
      const env: Record<string, string> = {};
      if (config.BULKHEAD_MODEL_API_KEY) env.BULKHEAD_MODEL_API_KEY = config.BULKHEAD_MODEL_API_KEY;
      // The sandbox sees none of the worker's environment: the model client's bounds go in here.
      for (const k of ['BULKHEAD_MODEL_TIMEOUT_MS', 'BULKHEAD_MODEL_RETRIES', 'BULKHEAD_MODEL_BUDGET_MS'] as const) {
        if (config[k]) env[k] = config[k];
      }
      // A source's Authorization header: history carries only the env var's NAME (config
      // `auth_env`); the value is read here and reaches only the agent that talks to that source.
      Object.assign(env, sourceAuthEnv(input.sources, a.sources));
      const res = await guard(() =>
        driver.exec(a.id, [NODE, AGENT_FILE], {
          stdin: JSON.stringify(input),
          env,
          timeoutMs: policy.limits.run_timeout_seconds * 1000,
          signal: ctx.cancellationSignal,
        }),
      );
      const lastLine = visibleText(redactDeep(res.stderr.trim().split('\n').slice(-1)[0] ?? '') as string).slice(0, 300);
      if (res.timedOut) {
        throw ApplicationFailure.retryable(`${a.agent} timed out after ${policy.limits.run_timeout_seconds} s`, 'AgentTimeout');
      }
      if (res.exitCode === 2) throw ApplicationFailure.nonRetryable(`${a.agent} rejected its input: ${lastLine}`, 'AgentInputInvalid');
      if (res.exitCode !== 0) throw ApplicationFailure.retryable(`${a.agent} exited ${res.exitCode}: ${lastLine}`, 'AgentFailed');
      let parsed: unknown;
      try {
        parsed = JSON.parse(res.stdout);
      } catch {
        throw ApplicationFailure.retryable(`${a.agent} printed no JSON result`, 'AgentOutputInvalid');
      }
      const result = AgentResult.safeParse(parsed);
      if (!result.success) {
        const i = result.error.issues[0]!;
        throw ApplicationFailure.retryable(`${a.agent} result: ${i.path.join('.')}: ${i.message}`, 'AgentOutputInvalid');
      }
      // The sandbox-exit pass once more, host side: a compromised sandbox may have skipped its own.
      return sanitizeAgentResult(result.data);
    },

    /** Collects what the policy refused, then deletes. Deleting a missing sandbox succeeds. */
    async deleteSandbox(a: { id: string }): Promise<{ denials: Denial[] }> {
      return guard(async () => {
        const denials = await driver.denials(a.id).catch(() => [] as Denial[]);
        await driver.delete(a.id);
        owned.delete(a.id);
        return { denials };
      });
    },
  };
}
