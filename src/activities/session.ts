import { Context } from '@temporalio/activity';
import type { Client } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import { redact } from '../agents/redact';
import type { Config } from '../config';
import { buildDispatchBundle } from '../dispatch/bundle';
import { InputError } from '../errors';
import type { SandboxDriver } from '../sandbox/driver';
import { loadPolicy, PolicyError, resolvePolicy } from '../sandbox/policy';
import { loadScenario } from '../scenario/load';
import type { Incident, Sources } from '../schemas/agent';
import { findAnt } from '../session/ant';
import { OPTIONAL_ENV, REQUIRED_ENV, takeCredentials } from '../session/credentials';
import { startDispatchEndpoint } from '../session/dispatch-server';
import { sandboxFailure } from './sandbox';

export interface SessionActivityDeps {
  driver: SandboxDriver;
  config: Config;
  /** Turns dispatch requests into Updates; the worker passes its own. */
  client?: Client;
  policyDir?: string;
}

const DEFAULT_ANTHROPIC = 'https://api.anthropic.com';
const WINDOW_MINUTES = 60;
// Relative to the sandbox workdir, where every exec starts.
const BIN = { ant: 'bin/ant', dispatch: 'bin/dispatch', bulkhead: 'bin/bulkhead' };
// The sandbox's own PATH is minimal; bin/ goes first so the brain's bash finds `dispatch`.
const RUN_ANT = 'PATH="$PWD/bin:$PATH"; export PATH; exec ant beta:worker run';

function asFailure(e: unknown): unknown {
  if (e instanceof PolicyError || e instanceof InputError) return ApplicationFailure.nonRetryable(e.message, 'SessionConfigInvalid');
  return sandboxFailure(e);
}

const tail = (text: string) => redact(text.trim().split('\n').slice(-3).join(' | ')).text.slice(0, 400);

/** The Managed Agents session's activities: context, sandbox, and `ant beta:worker run` in it. */
export function createSessionActivities(deps: SessionActivityDeps) {
  const { driver, config } = deps;
  let dispatchBundle: Promise<string> | undefined;

  return {
    /**
     * What the specialists investigate in a session: BULKHEAD_SESSION_SCENARIO's incident and
     * data, else the worker's configured sources over the last hour (a live incident).
     */
    async sessionContext({ sessionId }: { sessionId: string }): Promise<{ incident: Incident; sources: Sources }> {
      try {
        if (config.BULKHEAD_SESSION_SCENARIO) {
          const s = await loadScenario(config.BULKHEAD_SESSION_SCENARIO);
          return { incident: s.incident, sources: s.sources };
        }
      } catch (e) {
        throw asFailure(e);
      }
      const now = new Date();
      const sources: Sources = {};
      if (config.BULKHEAD_LOGS_DIR) sources.logsDir = config.BULKHEAD_LOGS_DIR;
      if (config.BULKHEAD_RUNBOOKS_DIR) sources.runbooksDir = config.BULKHEAD_RUNBOOKS_DIR;
      if (config.PROMETHEUS_URL) sources.prometheusUrl = config.PROMETHEUS_URL;
      if (config.LOKI_URL) sources.lokiUrl = config.LOKI_URL;
      return {
        incident: {
          id: sessionId,
          title: `Managed Agents session ${sessionId}`,
          service: 'unknown',
          severity: 'unknown',
          report: 'A Managed Agents session investigates; each dispatched task says what to look at.',
          window: { start: new Date(now.getTime() - WINDOW_MINUTES * 60_000).toISOString(), end: now.toISOString() },
          now: now.toISOString(),
        },
        sources,
      };
    },

    /** Deny-all network, no data mounts. Idempotent on the id. */
    async createSessionSandbox(a: { id: string; owner: string }): Promise<void> {
      try {
        const policy = await loadPolicy('session', deps.policyDir);
        if (policy.filesystem.read_only.length) throw new PolicyError('session policy: filesystem.read_only: a session sandbox mounts no data');
        await driver.create({ id: a.id, agent: 'session', owner: a.owner, readOnly: [] });
      } catch (e) {
        throw asFailure(e);
      }
    },

    /**
     * Runs `ant beta:worker run` in the session sandbox until it exits, behind a dispatch endpoint
     * of this session's own. The credentials come from the shim's handoff file (read once, then
     * deleted) into the sandbox's environment only. Cancellation kills ant.
     */
    async runSessionAgent(a: { id: string; sessionId: string; workflowId: string }): Promise<{ exitCode: number }> {
      const ctx = Context.current();
      if (!deps.client) throw ApplicationFailure.nonRetryable('this worker has no Temporal client for session dispatch', 'SessionConfigInvalid');
      const ant = findAnt(config);
      if (!ant) {
        throw ApplicationFailure.nonRetryable('ant CLI not found: put `ant` on PATH or set BULKHEAD_ANT_BIN', 'SessionConfigInvalid');
      }
      const creds = await takeCredentials(config, a.sessionId);
      if (!creds) {
        throw ApplicationFailure.nonRetryable(
          `no credentials handed over for session ${a.sessionId}: start sessions with \`bulkhead on-work\` on this worker's host (same BULKHEAD_STATE_DIR)`,
          'SessionCredentialsMissing',
        );
      }
      const env: Record<string, string> = {};
      for (const k of [...REQUIRED_ENV, ...OPTIONAL_ENV]) if (creds.env[k]) env[k] = creds.env[k]!;

      const endpoint = await startDispatchEndpoint(deps.client, a.workflowId);
      const timer = setInterval(() => ctx.heartbeat(), 3000);
      try {
        const policyFile = await loadPolicy('session', deps.policyDir);
        const policy = resolvePolicy(policyFile, 'run', { anthropic: env.ANTHROPIC_BASE_URL ?? DEFAULT_ANTHROPIC, dispatch: endpoint.url }, {});
        dispatchBundle ??= buildDispatchBundle();
        const bundle = await dispatchBundle;
        await driver.upload(a.id, ant, BIN.ant);
        await driver.upload(a.id, bundle, BIN.dispatch);
        await driver.upload(a.id, bundle, BIN.bulkhead);
        const chmod = await driver.exec(a.id, ['/bin/chmod', '755', BIN.ant, BIN.dispatch, BIN.bulkhead], { timeoutMs: 30_000 });
        if (chmod.exitCode !== 0) throw ApplicationFailure.retryable(`chmod in the session sandbox: ${tail(chmod.stderr)}`, 'InstallFailed');
        await driver.applyPolicy(a.id, policy);

        const res = await driver.exec(a.id, ['/bin/sh', '-c', RUN_ANT], {
          env: { ...env, BULKHEAD_DISPATCH_URL: endpoint.url, BULKHEAD_DISPATCH_TOKEN: endpoint.token },
          stdin: creds.workItem,
          timeoutMs: policyFile.limits.run_timeout_seconds * 1000,
          signal: ctx.cancellationSignal,
        });
        if (res.timedOut) {
          throw ApplicationFailure.nonRetryable(`ant beta:worker run timed out after ${policyFile.limits.run_timeout_seconds} s`, 'SessionTimeout');
        }
        if (res.exitCode !== 0) {
          throw ApplicationFailure.nonRetryable(`ant beta:worker run exited ${res.exitCode}: ${tail(res.stderr)}`, 'SessionAgentFailed');
        }
        return { exitCode: 0 };
      } catch (e) {
        throw asFailure(e);
      } finally {
        clearInterval(timer);
        await endpoint.close();
      }
    },
  };
}
