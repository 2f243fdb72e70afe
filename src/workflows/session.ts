import {
  ApplicationFailure,
  CancellationScope,
  allHandlersFinished,
  condition,
  isCancellation,
  proxyActivities,
  setHandler,
  upsertSearchAttributes,
  workflowInfo,
} from '@temporalio/workflow';
import type { createSessionActivities } from '../activities/session';
import type { AgentName } from '../schemas/agent';
import { type DispatchReply, dispatchProblem, dispatchUpdate } from './dispatch-update';
import { SESSION_ID_PATTERN, sandboxName, sessionSandboxBase, specialistIds } from './ids';
import { describeFailure as describe } from './failures';
import { sandboxStep } from './sandbox-steps';
import { SANDBOX_SEARCH_ATTRIBUTE } from './search-attributes';
import { executeSpecialist } from './specialist';

type SessionActivities = ReturnType<typeof createSessionActivities>;

const { sessionContext, createSessionSandbox } = proxyActivities<SessionActivities>({
  startToCloseTimeout: '90s',
  retry: { initialInterval: '1s', backoffCoefficient: 2, maximumInterval: '10s', maximumAttempts: 4 },
});
// One attempt: the session's credentials are handed over once, and a second `ant beta:worker run`
// for a session whose first one died is for the poller to decide, not us.
const { runSessionAgent } = proxyActivities<SessionActivities>({
  startToCloseTimeout: '12h',
  heartbeatTimeout: '30s',
  retry: { maximumAttempts: 1 },
});

export interface SessionInput {
  /** ANTHROPIC_SESSION_ID. Nothing secret travels here: credentials go worker-side (see on-work). */
  sessionId: string;
}

export interface SessionOutput {
  sessionId: string;
  sandbox: { id: string; deleted: boolean };
  dispatches: { workflowId: string; agent: AgentName; ok: boolean }[];
}


/**
 * A Managed Agents session (ant mode): `ant beta:worker run` runs in a session sandbox, and each
 * `dispatch AGENT "TASK"` the brain runs there arrives as a `dispatch` Update, answered by a
 * runSpecialist child. Updates run concurrently. The session ends when ant exits or on cancel;
 * either way every child finishes (and deletes its sandbox) before the session sandbox goes.
 */
export async function managedSession(input: SessionInput): Promise<SessionOutput> {
  if (!SESSION_ID_PATTERN.test(input?.sessionId ?? '')) {
    throw ApplicationFailure.nonRetryable(`sessionId: expected ${SESSION_ID_PATTERN}`, 'InvalidInput');
  }
  const info = workflowInfo();
  const base = sessionSandboxBase(info.workflowId, info.runId);
  const sandboxId = sandboxName(base, 0);
  upsertSearchAttributes([{ key: SANDBOX_SEARCH_ATTRIBUTE, value: base }]);

  const context = sessionContext({ sessionId: input.sessionId });
  // Avoid an unhandled rejection before the main path awaits it; the main path reports it.
  context.catch(() => undefined);
  const nextId = specialistIds(info.workflowId);
  const dispatches: SessionOutput['dispatches'] = [];
  let closing = false;

  setHandler(
    dispatchUpdate,
    async (req): Promise<DispatchReply> => {
      const workflowId = nextId(req.agent);
      // Linted (PII redacted) by the dispatch endpoint before the Update was sent: an Update's
      // arguments are in history before this handler runs, so linting here would come too late.
      const task = req.task;
      let reply: DispatchReply;
      try {
        const { incident, sources } = await context;
        const out = await executeSpecialist(workflowId, { agent: req.agent, task, incident, sources });
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
        if (closing) throw new Error('the session is ending: no new dispatches');
        const problem = dispatchProblem(req);
        if (problem) throw new Error(problem);
      },
    },
  );

  let deleted = false;
  try {
    await context;
    await createSessionSandbox({ id: sandboxId, owner: info.workflowId });
    await runSessionAgent({ id: sandboxId, sessionId: input.sessionId, workflowId: info.workflowId });
  } finally {
    closing = true;
    // Children must finish first: closing the parent would terminate them before they delete
    // their sandboxes. On cancellation they are being cancelled too, and clean up as they go.
    await CancellationScope.nonCancellable(async () => {
      const [del] = await Promise.allSettled([sandboxStep('deleteSandbox', `session: delete sandbox ${sandboxId}`)({ id: sandboxId }), condition(allHandlersFinished)]);
      deleted = del.status === 'fulfilled';
    });
  }
  return { sessionId: input.sessionId, sandbox: { id: sandboxId, deleted }, dispatches };
}
