import {
  ActivityCancellationType,
  ApplicationFailure,
  CancellationScope,
  CancelledFailure,
  allHandlersFinished,
  condition,
  continueAsNew,
  isCancellation,
  proxyActivities,
  setHandler,
  upsertSearchAttributes,
  workflowInfo,
} from '@temporalio/workflow';
import type { createSessionActivities, SessionEnd } from '../activities/session';
import type { createWorkPollActivities } from '../activities/work-poll';
import type { AgentName } from '../schemas/agent';
import { type DispatchReply, dispatchProblem, dispatchUpdate } from './dispatch-update';
import { describeFailure as describe } from './failures';
import { SESSION_ID_PATTERN, sandboxName, sessionSandboxBase, specialistIds } from './ids';
import { sandboxStep } from './sandbox-steps';
import { SANDBOX_SEARCH_ATTRIBUTE } from './search-attributes';
import { executeSpecialist } from './specialist';

type SessionActivities = ReturnType<typeof createSessionActivities>;
type PollActivities = ReturnType<typeof createWorkPollActivities>;

const { sessionContext, stopWork, forgetWork } = proxyActivities<SessionActivities>({
  startToCloseTimeout: '60s',
  retry: { initialInterval: '1s', backoffCoefficient: 2, maximumInterval: '10s', maximumAttempts: 6 },
});
// Retried: a worker killed mid-session is replaced, and the retry re-creates the sandbox and
// resumes the lease with the echo saved on this host. Heartbeats notice the kill in seconds.
// Cancellation waits for the runner's SIGTERM grace, so the sandbox is not deleted under it.
const { runSessionAgent } = proxyActivities<SessionActivities>({
  startToCloseTimeout: '12h',
  heartbeatTimeout: '20s',
  cancellationType: ActivityCancellationType.WAIT_CANCELLATION_COMPLETED,
  retry: { initialInterval: '1s', maximumInterval: '10s', maximumAttempts: 5, nonRetryableErrorTypes: ['WorkSecretMissing', 'WorkSecretInvalid', 'SessionConfigInvalid'] },
});

export interface SessionInput {
  /** The work item (ANTHROPIC_WORK_ID); the workflow is `work-<workId>`. Nothing secret here. */
  workId: string;
  environmentId: string;
  sessionId: string;
  /** True when this workflow claimed the item (agents-worker); false when a poller already acked. */
  ack: boolean;
  /** The queue of the worker holding the environment key (ack runs there). */
  pollQueue?: string;
}

export interface SessionOutput {
  workId: string;
  sessionId: string;
  end: SessionEnd | 'already_stopped' | 'failed';
  stopped: boolean;
  sandbox: { id: string; deleted: boolean };
  dispatches: { workflowId: string; agent: AgentName; ok: boolean }[];
}

/**
 * A Managed Agents work item (one session's turn of work): ack, then the session runner in a
 * session sandbox while the lease is kept; each `dispatch AGENT "TASK"` the brain runs there
 * arrives as a `dispatch` Update, answered by a runSpecialist child (concurrently). On every exit
 * (runner done, lease lost, server-side stop, failure, cancellation) the children finish and
 * delete their sandboxes, the item is stopped unless its lease went to someone else, and the
 * session sandbox is deleted.
 */
export async function managedSession(input: SessionInput): Promise<SessionOutput> {
  for (const k of ['workId', 'sessionId', 'environmentId'] as const) {
    if (!SESSION_ID_PATTERN.test(input?.[k] ?? '')) throw ApplicationFailure.nonRetryable(`${k}: expected ${SESSION_ID_PATTERN}`, 'InvalidInput');
  }
  const ref = { workId: input.workId, environmentId: input.environmentId };
  const info = workflowInfo();
  const base = sessionSandboxBase(info.workflowId, info.runId);
  const sandboxId = sandboxName(base, 0);
  upsertSearchAttributes([{ key: SANDBOX_SEARCH_ATTRIBUTE, value: base }]);

  const nextId = specialistIds(info.workflowId);
  const dispatches: SessionOutput['dispatches'] = [];
  let closing = false;
  let context: ReturnType<typeof sessionContext> | undefined;

  setHandler(
    dispatchUpdate,
    async (req): Promise<DispatchReply> => {
      const workflowId = nextId(req.agent);
      // Linted (PII redacted) by the dispatch endpoint before the Update was sent.
      let reply: DispatchReply;
      try {
        const { incident, sources } = await context!;
        const out = await executeSpecialist(workflowId, { agent: req.agent, task: req.task, incident, sources });
        reply =
          out.status === 'completed' && out.result
            ? { ok: true, summary: out.result.summary, workflowId }
            : { ok: false, error: out.error ?? 'specialist failed', workflowId };
      } catch (err) {
        if (isCancellation(err)) throw err;
        reply = { ok: false, error: describe(err), workflowId };
      }
      dispatches.push({ workflowId, agent: req.agent, ok: reply.ok });
      return reply;
    },
    {
      validator: (req) => {
        if (closing || !context) throw new Error('the session is not serving dispatches');
        const problem = dispatchProblem(req);
        if (problem) throw new Error(problem);
      },
    },
  );

  let end: SessionOutput['end'] = 'failed';
  let deleted = false;
  let stopped = false;
  if (input.ack) {
    const { ackWork } = proxyActivities<PollActivities>({
      taskQueue: input.pollQueue,
      startToCloseTimeout: '30s',
      retry: { initialInterval: '1s', maximumInterval: '10s', maximumAttempts: 10 },
    });
    try {
      await ackWork(ref);
    } catch (err) {
      // Stopped before we got to it: nothing ran, nothing to clean.
      await CancellationScope.nonCancellable(() => forgetWork(ref));
      if (isCancellation(err)) throw err;
      return { workId: input.workId, sessionId: input.sessionId, end: 'already_stopped', stopped: true, sandbox: { id: sandboxId, deleted: true }, dispatches };
    }
  }
  try {
    context = sessionContext({ sessionId: input.sessionId });
    context.catch(() => undefined);
    await context;
    end = (await runSessionAgent({ ...ref, id: sandboxId, sessionId: input.sessionId, workflowId: info.workflowId })).end;
    // The runner may finish on its own while a cancellation is still on its way to the activity
    // (cancelled dispatches end the brain's turn): the session was cancelled all the same.
    if (CancellationScope.current().consideredCancelled) throw new CancelledFailure('session cancelled');
  } finally {
    closing = true;
    // Children first (closing the parent would terminate them before they delete their
    // sandboxes), then the item's stop, the session sandbox and the saved secret.
    await CancellationScope.nonCancellable(async () => {
      const [del] = await Promise.allSettled([sandboxStep('deleteSandbox', `session: delete sandbox ${sandboxId}`)({ id: sandboxId }), condition(allHandlersFinished)]);
      deleted = del.status === 'fulfilled';
      // After a lost lease the item belongs to the queue or another worker: leave it alone.
      if (end !== 'lease_lost') stopped = (await stopWork(ref).catch(() => ({ stopped: false }))).stopped;
      await forgetWork(ref).catch(() => undefined);
    });
  }
  return { workId: input.workId, sessionId: input.sessionId, end, stopped, sandbox: { id: sandboxId, deleted }, dispatches };
}

/**
 * `bulkhead agents-worker`'s claim loop, `agents-poll-<environmentId>`: the poll activity runs on
 * the queue of the workers that hold the environment key; a killed worker's poll is picked up
 * by the next one (heartbeat timeout). Continues as new now and then to keep history short.
 */
export async function agentsPoller(input: { pollQueue: string; rounds?: number }): Promise<void> {
  const poll = proxyActivities<PollActivities>({
    taskQueue: input.pollQueue,
    startToCloseTimeout: '15m',
    heartbeatTimeout: '15s',
    retry: { initialInterval: '1s', maximumInterval: '10s', nonRetryableErrorTypes: ['WorkConfigInvalid'] },
  }).pollWork;
  for (let i = 0; i < (input.rounds ?? 20); i++) await poll();
  await continueAsNew<typeof agentsPoller>(input);
}
