import { Context } from '@temporalio/activity';
import type { Client } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import type { Config } from '../config';
import { isFatal4xx, statusOf, workClient } from '../session/api-client';
import { rememberSecret, WORK_ID_PATTERN } from '../session/work-state';
import { workWorkflowId } from '../workflows/ids';
import type { SessionInput } from '../workflows/session';

export interface WorkPollDeps {
  config: Config;
  client: Client;
  environmentId: string;
  /** Read by `bulkhead agents-worker` from its own environment; never an activity argument. */
  environmentKey: string;
  /** The queue the session workflows run on. */
  sessionQueue: string;
  /** This queue (ack runs where the environment key is). */
  pollQueue: string;
}

// lib/environments/poller.ts: "API caps block_ms at 999".
const BLOCK_MS = 999;
// The sheet, "Leases": un-acked items come back after reclaim_older_than_ms (default 5 s).
export const RECLAIM_MS = 5000;
/** A poll activity hands over to a fresh one now and then, so its history stays short. */
const POLL_SLICE_MS = 10 * 60_000;

/**
 * The environment worker's claim side, on a queue only `bulkhead agents-worker` serves (it holds
 * the environment key). pollWork long-polls WITHOUT acking and starts workflow `work-<workId>`
 * for each item (a redelivered item joins the one already running); the workflow acks first.
 * So a worker killed before the ack loses nothing: the queue redelivers the item.
 */
export function createWorkPollActivities(d: WorkPollDeps) {
  const api = () => workClient(d.environmentKey, d.config.ANTHROPIC_BASE_URL);
  return {
    async pollWork(): Promise<{ started: number }> {
      const ctx = Context.current();
      const client = api();
      const until = Date.now() + POLL_SLICE_MS;
      let started = 0;
      while (Date.now() < until && !ctx.cancellationSignal.aborted) {
        ctx.heartbeat();
        let work;
        try {
          work = await client.beta.environments.work.poll(d.environmentId, { block_ms: BLOCK_MS, reclaim_older_than_ms: RECLAIM_MS }, { signal: ctx.cancellationSignal });
        } catch (e) {
          if (ctx.cancellationSignal.aborted) break;
          if (isFatal4xx(e)) throw ApplicationFailure.nonRetryable(`work poll refused (${statusOf(e)}): check ANTHROPIC_ENVIRONMENT_ID and ANTHROPIC_ENVIRONMENT_KEY`, 'WorkConfigInvalid');
          throw e;
        }
        if (!work) continue;
        if (work.data.type !== 'session' || !WORK_ID_PATTERN.test(work.id) || !WORK_ID_PATTERN.test(work.data.id)) continue;
        if (work.secret) await rememberSecret(d.config, work.id, work.secret);
        const input: SessionInput = { workId: work.id, environmentId: work.environment_id, sessionId: work.data.id, ack: true, pollQueue: d.pollQueue };
        await d.client.workflow.start('managedSession', {
          taskQueue: d.sessionQueue,
          workflowId: workWorkflowId(work.id),
          args: [input],
          workflowIdConflictPolicy: 'USE_EXISTING',
          staticSummary: `Managed Agents session ${work.data.id} (work ${work.id})`,
        });
        started++;
      }
      return { started };
    },

    /** queued -> starting. 409: the item was stopped meanwhile. */
    async ackWork(a: { workId: string; environmentId: string }): Promise<void> {
      try {
        await api().beta.environments.work.ack(a.workId, { environment_id: a.environmentId });
      } catch (e) {
        if (statusOf(e) === 409) throw ApplicationFailure.nonRetryable(`work ${a.workId} is already stopped`, 'WorkStopped');
        if (isFatal4xx(e)) throw ApplicationFailure.nonRetryable(`ack refused (${statusOf(e)})`, 'WorkConfigInvalid');
        throw e;
      }
    },
  };
}
