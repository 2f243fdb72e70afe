import {
  ActivityFailure,
  ApplicationFailure,
  CancellationScope,
  getExternalWorkflowHandle,
  isCancellation,
  patched,
  proxyActivities,
  setHandler,
  sleep,
  upsertSearchAttributes,
  workflowInfo,
} from '@temporalio/workflow';
import type { createSandboxActivities } from '../activities/sandbox';
import type { AgentResult } from '../schemas/agent';
import type { Denial } from '../schemas/report';
import { sandboxBase, sandboxName } from './ids';
import { type SandboxStep, type SpecialistProgress, specialistProgressQuery, specialistProgressSignal } from './progress';
import { SANDBOX_SEARCH_ATTRIBUTE } from './search-attributes';
import type { SpecialistInput, SpecialistOutput } from './types';

type SandboxActivities = ReturnType<typeof createSandboxActivities>;

// Each step has its own budget: creation and install are quick and safely retried (create is
// idempotent on the name), the agent run is long and heartbeats, delete must eventually succeed.
const { createSandbox, installAgent } = proxyActivities<SandboxActivities>({
  startToCloseTimeout: '90s',
  retry: { initialInterval: '1s', backoffCoefficient: 2, maximumInterval: '10s', maximumAttempts: 4 },
});
const { applyAgentPolicy } = proxyActivities<SandboxActivities>({
  startToCloseTimeout: '30s',
  retry: { initialInterval: '1s', backoffCoefficient: 2, maximumInterval: '10s', maximumAttempts: 4 },
});
// One attempt per activity: the workflow retries the run itself, so it knows the attempt count
// and can replace a sandbox that was lost with its worker.
const { runAgent } = proxyActivities<SandboxActivities>({
  startToCloseTimeout: '6m',
  heartbeatTimeout: '20s',
  retry: { maximumAttempts: 1 },
});
const { deleteSandbox } = proxyActivities<SandboxActivities>({
  startToCloseTimeout: '45s',
  retry: { initialInterval: '1s', backoffCoefficient: 2, maximumInterval: '15s', maximumAttempts: 12 },
});

export const RUN_ATTEMPTS = 3;
const MAX_INCARNATIONS = 2;

/** The failure's own message, not the wrapper's "Activity task failed". */
function describe(err: unknown): string {
  let e: unknown = err;
  while (e instanceof ActivityFailure && e.cause) e = e.cause;
  return e instanceof Error ? e.message : String(err);
}
function failureType(err: unknown): string | null {
  const cause = err instanceof ActivityFailure ? err.cause : err;
  return cause instanceof ApplicationFailure ? (cause.type ?? null) : null;
}
function isRetryable(err: unknown): boolean {
  const cause = err instanceof ActivityFailure ? err.cause : err;
  return !(cause instanceof ApplicationFailure && cause.nonRetryable);
}

/**
 * create -> install -> policy -> run -> delete, one sandbox per specialist. Delete runs on every
 * path (success, failure, timeout, cancellation) in a non-cancellable scope, and is idempotent.
 */
export async function runSpecialist(input: SpecialistInput): Promise<SpecialistOutput> {
  const info = workflowInfo();
  const base = sandboxBase(input.agent, info.workflowId, info.runId);
  const started = Date.now();
  const progress: SpecialistProgress = {
    workflowId: info.workflowId,
    agent: input.agent,
    task: input.task,
    step: 'queued',
    sandboxId: null,
    attempts: 0,
    denials: [],
    error: null,
  };
  setHandler(specialistProgressQuery, () => progress);
  upsertSearchAttributes([{ key: SANDBOX_SEARCH_ATTRIBUTE, value: base }]);

  const parent = info.parent ? getExternalWorkflowHandle(info.parent.workflowId) : null;
  const report = async (step: SandboxStep, wait = false) => {
    progress.step = step;
    if (!parent) return;
    // Progress is best-effort: a parent that is gone must not fail the cleanup path.
    const sent = parent.signal(specialistProgressSignal, { ...progress }).catch(() => undefined);
    // Waiting for the signal cost a workflow-task round trip per step; now it leaves with the
    // step's own command. Runs begun before this change keep waiting (replay), as do final steps.
    if (wait || !patched('progress-signal-no-wait')) await sent;
  };

  let result: AgentResult | null = null;
  let error: string | null = null;
  let created = false;
  let deleted = true;
  const denials: Denial[] = [];

  for (let incarnation = 0; incarnation < MAX_INCARNATIONS && !result; incarnation++) {
    const id = sandboxName(base, incarnation);
    progress.sandboxId = id;
    let lost = false;
    try {
      await report('create');
      await createSandbox({ id, agent: input.agent, owner: info.workflowId, sources: input.sources });
      created = true;
      deleted = false;
      await report('install');
      await installAgent({ id, agent: input.agent });
      await report('policy');
      await applyAgentPolicy({ id, agent: input.agent, sources: input.sources });
      for (let attempt = 1; attempt <= RUN_ATTEMPTS; attempt++) {
        progress.attempts++;
        await report('run');
        try {
          result = await runAgent({ id, agent: input.agent, task: input.task, incident: input.incident, sources: input.sources });
          error = null;
          break;
        } catch (err) {
          if (isCancellation(err)) throw err;
          error = describe(err);
          progress.error = error;
          if (failureType(err) === 'SandboxLost') {
            lost = true;
            break;
          }
          if (!isRetryable(err) || attempt === RUN_ATTEMPTS) break;
          await sleep(1000 * 2 ** (attempt - 1));
        }
      }
    } catch (err) {
      if (isCancellation(err)) {
        await cleanup(id);
        await report('cancelled', true);
        throw err;
      }
      error = describe(err);
      progress.error = error;
    }
    await cleanup(id);
    if (!lost) break;
  }

  async function cleanup(id: string): Promise<void> {
    await report('delete');
    try {
      const out = await CancellationScope.nonCancellable(() => deleteSandbox({ id }));
      denials.push(...out.denials);
      progress.denials = [...denials];
      deleted = true;
    } catch (err) {
      // Left for the reaper; the report says so rather than claiming a clean delete.
      error = error ?? `sandbox ${id} not deleted: ${describe(err)}`;
      deleted = false;
    }
  }

  const status = result ? 'completed' : 'failed';
  progress.error = error;
  await report(status === 'completed' ? 'done' : 'failed', true);
  return {
    agent: input.agent,
    task: input.task,
    workflowId: info.workflowId,
    status,
    result,
    error: result ? null : error,
    sandbox: { id: progress.sandboxId ?? sandboxName(base, 0), created, deleted },
    denials,
    attempts: progress.attempts,
    durationMs: Date.now() - started,
  };
}
