import {
  CancellationScope,
  executeChild,
  getExternalWorkflowHandle,
  isCancellation,
  patched,
  setHandler,
  sleep,
  upsertSearchAttributes,
  workflowInfo,
} from '@temporalio/workflow';
import type { AgentResult } from '../schemas/agent';
import type { Denial } from '../schemas/report';
import { describeFailure as describe, failureType, isRetryableFailure as isRetryable } from './failures';
import { sandboxBase, sandboxName } from './ids';
import { sandboxStep } from './sandbox-steps';
import { type SandboxStep, type SpecialistProgress, queuedProgress, specialistProgressQuery, specialistProgressSignal } from './progress';
import { SANDBOX_SEARCH_ATTRIBUTE } from './search-attributes';
import type { SpecialistInput, SpecialistOutput } from './types';

export const RUN_ATTEMPTS = 3;
const SIGNALLED = new Set<SandboxStep>(['run', 'done', 'failed', 'cancelled']);
// Each lost sandbox (its worker died) gets a replacement; bounded so a driver that keeps losing
// them ends the specialist instead of looping. Three survives two worker crashes in a row.
const MAX_INCARNATIONS = 3;

/** Gone with its worker, or already deleted as such by the reaper: a new sandbox will do. */
function isLost(err: unknown): boolean {
  const type = failureType(err);
  return type === 'SandboxLost' || type === 'SandboxMissing';
}

/** Runs one specialist as a child of the calling workflow, listed in the UI by agent and task. */
export function executeSpecialist(workflowId: string, input: SpecialistInput): Promise<SpecialistOutput> {
  return executeChild(runSpecialist, { workflowId, args: [input], staticSummary: `${input.agent}: ${input.task.slice(0, 120)}` });
}

/**
 * create -> install -> policy -> run -> delete, one sandbox per specialist. Delete runs on every
 * path (success, failure, timeout, cancellation) in a non-cancellable scope, and is idempotent.
 */
export async function runSpecialist(input: SpecialistInput): Promise<SpecialistOutput> {
  const info = workflowInfo();
  const base = sandboxBase(input.agent, info.workflowId, info.runId);
  const started = Date.now();
  const progress: SpecialistProgress = queuedProgress(info.workflowId, input.agent, input.task);
  setHandler(specialistProgressQuery, () => progress);
  upsertSearchAttributes([{ key: SANDBOX_SEARCH_ATTRIBUTE, value: base }]);

  const parent = info.parent ? getExternalWorkflowHandle(info.parent.workflowId) : null;
  // Runs that began signalling every step keep doing so on replay.
  const fewerSignals = patched('progress-signals-run-and-end');
  const report = async (step: SandboxStep, wait = false) => {
    progress.step = step;
    // Only the run (each attempt) and the end reach the parent: a signal per sandbox step made
    // up half of every history. The steps in between are this workflow's own progress query,
    // which watchers ask directly (src/cli/child-progress.ts).
    if (!parent || (fewerSignals && !SIGNALLED.has(step))) return;
    // Progress is best-effort: a parent that is gone must not fail the cleanup path.
    const sent = parent.signal(specialistProgressSignal, { ...progress }).catch(() => undefined);
    // Waiting would cost a workflow-task round trip per step: the signal leaves with the step's
    // own command. Only the final step waits, so the parent has it before the child closes.
    if (wait) await sent;
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
      await sandboxStep('createSandbox', `${input.agent}: create sandbox ${id}`)({ id, agent: input.agent, owner: info.workflowId, sources: input.sources });
      created = true;
      deleted = false;
      await report('install');
      await sandboxStep('installAgent', `${input.agent}: install agent in ${id}`)({ id, agent: input.agent });
      await report('policy');
      await sandboxStep('applyAgentPolicy', `${input.agent}: apply policy to ${id}`)({ id, agent: input.agent, sources: input.sources });
      for (let attempt = 1; attempt <= RUN_ATTEMPTS; attempt++) {
        progress.attempts++;
        await report('run');
        try {
          result = await sandboxStep('runAgent', `${input.agent}: run agent in ${id} (attempt ${attempt})`)({ id, agent: input.agent, task: input.task, incident: input.incident, sources: input.sources });
          error = null;
          break;
        } catch (err) {
          if (isCancellation(err)) throw err;
          error = describe(err);
          progress.error = error;
          if (isLost(err)) {
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
      // Lost between create and run (its worker died in between): replace it, as for a lost run.
      lost = isLost(err);
    }
    await cleanup(id);
    if (!lost) break;
  }

  async function cleanup(id: string): Promise<void> {
    await report('delete');
    try {
      const out = await CancellationScope.nonCancellable(() => sandboxStep('deleteSandbox', `${input.agent}: delete sandbox ${id}`)({ id }));
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
