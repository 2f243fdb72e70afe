import { Context } from '@temporalio/activity';
import type { Client } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { redact } from '../agents/redact';
import type { Config } from '../config';
import { buildDispatchBundle } from '../dispatch/bundle';
import { InputError } from '../errors';
import type { SandboxDriver } from '../sandbox/driver';
import { loadPolicy, PolicyError, resolvePolicy } from '../sandbox/policy';
import { loadScenario } from '../scenario/load';
import type { Incident, Sources } from '../schemas/agent';
import { statusOf, workClient } from '../session/api-client';
import { startDispatchEndpoint } from '../session/dispatch-server';
import { keepLease, type LeaseEnd } from '../session/lease';
import { buildRunnerBundle } from '../session/runner/bundle';
import { sessionsTokenFromSecret } from '../session/secret';
import { forgetWork, readWorkState, writeWorkState } from '../session/work-state';
import { sandboxFailure } from './sandbox';

export interface SessionActivityDeps {
  driver: SandboxDriver;
  config: Config;
  /** Turns dispatch requests into Updates; the worker passes its own. */
  client?: Client;
  policyDir?: string;
}

export interface WorkRef {
  workId: string;
  environmentId: string;
}

export type SessionEnd = 'runner_done' | LeaseEnd;

const WINDOW_MINUTES = 60;
/** The sheet: the poller gives its script 30 s after SIGTERM; the runner gets the same. */
export const RUNNER_GRACE_MS = 30_000;
// Relative to the sandbox workdir, where every exec starts. workspace/ is the agent's own
// directory (--workdir): its file tools cannot overwrite bin/ or run/.
const BIN = { runner: 'bin/session-runner', dispatch: 'bin/dispatch', bulkhead: 'bin/bulkhead' };
const SECRET = 'run/secret';
const PIDFILE = 'run/runner.pid';
const WORKDIR = 'workspace';

function asFailure(e: unknown): unknown {
  if (e instanceof PolicyError || e instanceof InputError) return ApplicationFailure.nonRetryable(e.message, 'SessionConfigInvalid');
  return sandboxFailure(e);
}

const tail = (text: string) => redact(text.trim().split('\n').slice(-3).join(' | ')).text.slice(0, 400);
const sh = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;

/** The Managed Agents session's activities: context, the session runner in its sandbox, the lease. */
export function createSessionActivities(deps: SessionActivityDeps) {
  const { driver, config } = deps;
  let dispatchBundle: Promise<string> | undefined;
  let runnerBundle: Promise<string> | undefined;

  async function sessionToken(workId: string): Promise<{ token: string; lastHeartbeat: string | null; secret: string }> {
    const state = await readWorkState(config, workId);
    if (!state) {
      throw ApplicationFailure.nonRetryable(
        `no work secret for work item ${workId} on this host: sessions are started by \`bulkhead agents-worker\` or \`bin/bulkhead-on-work\` (same BULKHEAD_STATE_DIR)`,
        'WorkSecretMissing',
      );
    }
    const token = sessionsTokenFromSecret(state.secret);
    if (!token) throw ApplicationFailure.nonRetryable(`work item ${workId}: its secret carries no sessions_token`, 'WorkSecretInvalid');
    return { token, lastHeartbeat: state.lastHeartbeat, secret: state.secret };
  }

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

    /**
     * Serves the session: (re)creates its sandbox (a sandbox left by a killed worker is replaced,
     * create being idempotent on the name), uploads the runner, `dispatch` and the work secret
     * (0600, read once by the runner and removed), and runs the runner while keeping the work
     * item's lease. A lease lost (412), a server-side stop (`stopping`) or cancellation stops
     * the runner with SIGTERM and 30 s of grace before it is killed. The environment key never
     * enters the sandbox: the runner has only the sessions token.
     */
    async runSessionAgent(a: WorkRef & { id: string; sessionId: string; workflowId: string }): Promise<{ end: SessionEnd }> {
      const ctx = Context.current();
      if (!deps.client) throw ApplicationFailure.nonRetryable('this worker has no Temporal client for session dispatch', 'SessionConfigInvalid');
      const { token, lastHeartbeat, secret } = await sessionToken(a.workId);
      const baseURL = config.ANTHROPIC_BASE_URL ?? 'https://api.anthropic.com';
      const beat = setInterval(() => ctx.heartbeat(), 3000);
      let endpoint: Awaited<ReturnType<typeof startDispatchEndpoint>> | undefined;
      let lease: ReturnType<typeof keepLease> | undefined;
      const hardKill = new AbortController();
      let graceTimer: NodeJS.Timeout | undefined;
      let end: SessionEnd = 'runner_done';
      let stopping = false;
      // SIGTERM to the runner (its pid file), then SIGKILL (the exec's abort) after the grace.
      const stopRunner = (why: SessionEnd) => {
        if (stopping) return;
        stopping = true;
        end = why;
        driver.exec(a.id, ['/bin/sh', '-c', `kill -TERM "$(cat ${PIDFILE})"`], { timeoutMs: 10_000 }).catch(() => undefined);
        graceTimer = setTimeout(() => hardKill.abort(), RUNNER_GRACE_MS);
      };
      const onCancel = () => stopRunner('stopping');
      ctx.cancellationSignal.addEventListener('abort', onCancel, { once: true });
      let tmp: string | undefined;
      try {
        const policyFile = await loadPolicy('session', deps.policyDir);
        if (policyFile.filesystem.read_only.length) throw new PolicyError('session policy: filesystem.read_only: a session sandbox mounts no data');
        await driver.create({ id: a.id, agent: 'session', owner: a.workflowId, readOnly: [] });
        endpoint = await startDispatchEndpoint(deps.client, a.workflowId, { host: config.BULKHEAD_DISPATCH_HOST ?? '127.0.0.1', waitMs: config.BULKHEAD_DISPATCH_WAIT_MS });
        const policy = resolvePolicy(policyFile, 'run', { anthropic: baseURL, dispatch: endpoint.url }, {});
        dispatchBundle ??= buildDispatchBundle();
        runnerBundle ??= buildRunnerBundle();
        tmp = await mkdtemp(path.join(tmpdir(), 'bh-work-'));
        await writeFile(path.join(tmp, 'secret'), secret, { mode: 0o600 });
        await driver.upload(a.id, await runnerBundle, BIN.runner);
        await driver.upload(a.id, await dispatchBundle, BIN.dispatch);
        await driver.upload(a.id, await dispatchBundle, BIN.bulkhead);
        await driver.upload(a.id, path.join(tmp, 'secret'), SECRET);
        const prep = await driver.exec(
          a.id,
          ['/bin/sh', '-c', `chmod 755 ${BIN.runner} ${BIN.dispatch} ${BIN.bulkhead} && chmod 700 run && chmod 600 ${SECRET} && mkdir -p ${WORKDIR}`],
          { timeoutMs: 30_000 },
        );
        if (prep.exitCode !== 0) throw ApplicationFailure.retryable(`preparing the session sandbox: ${tail(prep.stderr)}`, 'InstallFailed');
        await driver.applyPolicy(a.id, policy);

        const client = workClient(token, baseURL);
        lease = keepLease({
          client,
          workId: a.workId,
          environmentId: a.environmentId,
          lastHeartbeat,
          onBeat: (last) => writeWorkState(config, a.workId, { secret, lastHeartbeat: last }),
          onEnd: (why) => stopRunner(why),
        });
        const run = [
          `echo $$ > ${PIDFILE}`,
          'PATH="$PWD/bin:$PATH"; export PATH',
          `exec /usr/bin/node ${BIN.runner} --session-id ${sh(a.sessionId)} --work-secret-file ${SECRET} --workdir "$PWD/${WORKDIR}" --max-idle-ms ${config.BULKHEAD_SESSION_MAX_IDLE_MS}`,
        ].join('; ');
        const res = await driver
          .exec(a.id, ['/bin/sh', '-c', run], {
            env: { ANTHROPIC_BASE_URL: baseURL, BULKHEAD_DISPATCH_URL: endpoint.url, BULKHEAD_DISPATCH_TOKEN: endpoint.token },
            timeoutMs: policyFile.limits.run_timeout_seconds * 1000,
            signal: hardKill.signal,
          })
          .catch((e: unknown) => {
            if (hardKill.signal.aborted) return null;
            throw e;
          });
        // Cancelled: the runner had its grace; report the cancellation itself, not a result.
        if (ctx.cancellationSignal.aborted) throw ctx.cancellationSignal.reason;
        // The runner may exit on its own because the item was taken from us: ask the lease once
        // more, so such an end is lease_lost (no stop posted for an item that is not ours).
        if (!stopping && res) await lease.probe();
        if (stopping || !res) return { end };
        if (res.timedOut) throw ApplicationFailure.nonRetryable(`session runner timed out after ${policyFile.limits.run_timeout_seconds} s`, 'SessionTimeout');
        if (res.exitCode !== 0) throw ApplicationFailure.retryable(`session runner exited ${res.exitCode}: ${tail(res.stderr)}`, 'SessionAgentFailed');
        return { end: 'runner_done' };
      } catch (e) {
        if (ctx.cancellationSignal.aborted) throw ctx.cancellationSignal.reason;
        throw e instanceof ApplicationFailure ? e : asFailure(e);
      } finally {
        ctx.cancellationSignal.removeEventListener('abort', onCancel);
        clearInterval(beat);
        clearTimeout(graceTimer);
        lease?.stop();
        await lease?.done;
        await endpoint?.close();
        if (tmp) await rm(tmp, { recursive: true, force: true });
      }
    },

    /** Force-stop on every exit (the SDK worker's forceStop); 409 means already stopped. */
    async stopWork(a: WorkRef): Promise<{ stopped: boolean }> {
      const state = await readWorkState(config, a.workId);
      const token = sessionsTokenFromSecret(state?.secret);
      if (!token) return { stopped: false };
      try {
        await workClient(token, config.ANTHROPIC_BASE_URL).beta.environments.work.stop(a.workId, { environment_id: a.environmentId, force: true });
        return { stopped: true };
      } catch (e) {
        if (statusOf(e) === 409) return { stopped: true };
        throw e;
      }
    },

    /** The secret and lease echo go once the item is done with. */
    async forgetWork(a: WorkRef): Promise<void> {
      await forgetWork(config, a.workId);
    },
  };
}
