import {
  ApplicationFailure,
  CancellationScope,
  isCancellation,
  proxyActivities,
  setHandler,
  upsertSearchAttributes,
  workflowInfo,
} from '@temporalio/workflow';
import type { createBrainActivities } from '../activities/brain';
import type { createScenarioActivities } from '../activities/scenario';
import type { createSandboxActivities } from '../activities/sandbox';
import { initialMessage } from '../brain/initial';
import { toolResultsMessage } from '../brain/results';
import type { BrainMessage, BrainMode, Conclusion, Dispatch } from '../brain/types';
import { buildReport } from '../report/build';
import type { Incident, Sources } from '../schemas/agent';
import type { Report } from '../schemas/report';
import { describeFailure as describe, rootFailure } from './failures';
import { specialistIds } from './ids';
import { type InvestigationProgress, investigationProgress, queuedProgress, specialistProgressSignal } from './progress';
import { SERVICE_SEARCH_ATTRIBUTE, SEVERITY_SEARCH_ATTRIBUTE, STATUS_SEARCH_ATTRIBUTE } from './search-attributes';
import { executeSpecialist } from './specialist';
import type { InvestigateInput, SpecialistOutput } from './types';
import { boundWindow } from './window';

const { loadScenario } = proxyActivities<ReturnType<typeof createScenarioActivities>>({
  startToCloseTimeout: '60s',
  retry: { maximumAttempts: 3 },
});
const { sandboxDriverInfo } = proxyActivities<ReturnType<typeof createSandboxActivities>>({
  startToCloseTimeout: '10s',
  retry: { maximumAttempts: 3 },
});
// 429/529/5xx are retried by the SDK first and then here, with backoff; 4xx are non-retryable.
// The turn heartbeats while it waits on the model, so a worker killed mid-turn is noticed in
// seconds rather than after the 7 min start-to-close timeout.
const { brainTurn } = proxyActivities<ReturnType<typeof createBrainActivities>>({
  startToCloseTimeout: '7m',
  heartbeatTimeout: '20s',
  retry: { initialInterval: '2s', backoffCoefficient: 2, maximumInterval: '30s', maximumAttempts: 5 },
});

const DEFAULT_MAX_TURNS = 6;
const DEFAULT_DEADLINE_MINUTES = 30;

/** Which brain refused, from the failure's details (brainFailure puts them there). */
function brainOf(err: unknown): { mode: BrainMode; model: string | null } | null {
  const e = rootFailure(err);
  const d = e instanceof ApplicationFailure ? (e.details?.[0] as { mode?: unknown; model?: unknown } | undefined) : undefined;
  if (d?.mode !== 'anthropic' && d?.mode !== 'openai') return null;
  return { mode: d.mode, model: typeof d.model === 'string' ? d.model : null };
}

/**
 * Only what the brain needs to correlate: the redacted summary and the headline evidence, kept
 * small because every later brain request carries it again.
 */
function outcomeOf(out: SpecialistOutput) {
  if (out.status === 'completed' && out.result) {
    const e = out.result.evidence;
    const headline = {
      onset: e.onset,
      suspectedChange: e.suspectedChange,
      culprit: e.culprit,
      changes: e.changes.slice(0, 5),
      topErrors: e.topErrors.slice(0, 5),
      anomalies: e.anomalies.slice(0, 6).map(({ name, onset, before, after, unit }) => ({ name, onset, before, after, unit })),
      matchedIncidents: e.matchedIncidents.slice(0, 3),
    };
    return { ok: true as const, summary: out.result.summary, evidence: JSON.stringify(headline) };
  }
  return { ok: false as const, error: out.error ?? 'specialist failed' };
}

/**
 * The brain loop: each turn's dispatch calls run as parallel runSpecialist children, their
 * results go back to the brain in one message, until it concludes or the turn/deadline bound.
 */
export async function investigateIncident(input: InvestigateInput): Promise<Report> {
  const info = workflowInfo();
  const startedAt = new Date().toISOString();
  const deadlineMinutes = input.deadlineMinutes ?? DEFAULT_DEADLINE_MINUTES;
  const deadline = Date.now() + deadlineMinutes * 60_000;
  const maxTurns = input.maxTurns ?? DEFAULT_MAX_TURNS;

  const progress: InvestigationProgress = {
    incidentId: input.incident?.id ?? '',
    status: 'starting',
    turn: 0,
    brain: { mode: null, model: null },
    specialists: [],
  };
  setHandler(investigationProgress, () => progress);
  setHandler(specialistProgressSignal, (p) => {
    const i = progress.specialists.findIndex((s) => s.workflowId === p.workflowId);
    if (i >= 0) progress.specialists[i] = p;
    else progress.specialists.push(p);
  });

  let incident: Incident;
  let sources: Sources;
  if (input.scenarioDir) {
    ({ incident, sources } = await loadScenario({ dir: input.scenarioDir }));
  } else if (input.incident) {
    incident = input.incident;
    sources = input.sources ?? {};
  } else {
    throw ApplicationFailure.nonRetryable('input: give scenarioDir or incident', 'InvalidInput');
  }
  const bounded = boundWindow(incident);
  incident = bounded.incident;
  progress.incidentId = incident.id;
  progress.status = 'running';
  upsertSearchAttributes([
    { key: SERVICE_SEARCH_ATTRIBUTE, value: incident.service },
    { key: SEVERITY_SEARCH_ATTRIBUTE, value: incident.severity },
    { key: STATUS_SEARCH_ATTRIBUTE, value: 'running' },
  ]);
  // Only the report needs it: fetched alongside the first brain turn, not before it.
  const driverInfo = sandboxDriverInfo();
  driverInfo.catch(() => undefined);

  // The first message is the incident itself, so the history reads on its own.
  const transcript: BrainMessage[] = [initialMessage(incident)];
  const outputs: SpecialistOutput[] = [];
  const reasons: string[] = [...bounded.reasons];
  let mode: BrainMode = 'offline';
  let model: string | null = null;
  let conclusion: Conclusion | null = null;
  let redactedTasks = 0;
  let brainFailed = false;
  let turns = 0;

  const nextId = specialistIds(info.workflowId);
  const dispatch = (d: Dispatch) => {
    const workflowId = nextId(d.agent);
    progress.specialists.push(queuedProgress(workflowId, d.agent, d.task));
    return executeSpecialist(workflowId, { agent: d.agent, task: d.task, incident, sources });
  };

  try {
    for (let turn = 1; turn <= maxTurns; turn++) {
      // Past the deadline the brain gets its last turn: no more dispatches, conclude now.
      const overdue = Date.now() > deadline;
      if (overdue) reasons.push(`deadline of ${deadlineMinutes} min reached after ${turns} turns`);
      progress.turn = turn;
      let r;
      try {
        r = await brainTurn({ incident, transcript, turn: overdue ? maxTurns : turn, maxTurns });
      } catch (err) {
        if (isCancellation(err)) throw err;
        brainFailed = true;
        // A first turn that fails would otherwise leave the report saying "offline".
        ({ mode, model } = brainOf(err) ?? { mode, model });
        reasons.push(`brain: ${describe(err)}`);
        break;
      }
      turns = turn;
      mode = r.mode;
      model = r.model;
      progress.brain = { mode, model };
      redactedTasks += r.redactedTasks;
      transcript.push(r.assistant);
      if (r.done || (r.dispatches.length === 0 && r.invalid.length === 0)) {
        conclusion = r.conclusion;
        break;
      }
      const results = await Promise.all(r.dispatches.map(dispatch));
      outputs.push(...results);
      transcript.push(toolResultsMessage(r.assistant, r.dispatches, r.invalid, results.map(outcomeOf)));
    }
  } catch (err) {
    if (isCancellation(err)) {
      progress.status = 'cancelled';
      await CancellationScope.nonCancellable(async () =>
        upsertSearchAttributes([{ key: STATUS_SEARCH_ATTRIBUTE, value: 'cancelled' }]),
      );
    }
    throw err;
  }

  const report = buildReport({
    workflowId: info.workflowId,
    incident,
    outputs,
    conclusion,
    brain: { mode, model, turns },
    driver: await driverInfo,
    redactedTasks,
    reasons,
    brainFailed,
    startedAt,
    finishedAt: new Date().toISOString(),
  });
  progress.status = report.status;
  upsertSearchAttributes([{ key: STATUS_SEARCH_ATTRIBUTE, value: report.status }]);
  return report;
}
