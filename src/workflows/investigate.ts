import {
  ApplicationFailure,
  CancellationScope,
  isCancellation,
  proxyActivities,
  setCurrentDetails,
  setHandler,
  upsertSearchAttributes,
  workflowInfo,
} from '@temporalio/workflow';
import type { createBrainActivities } from '../activities/brain';
import type { createNotifyActivities } from '../activities/notify';
import type { createScenarioActivities } from '../activities/scenario';
import type { createSandboxActivities } from '../activities/sandbox';
import { initialMessage } from '../brain/initial';
import { toolResultsMessage } from '../brain/results';
import type { BrainMessage, BrainMode, Conclusion, Dispatch } from '../brain/types';
import { cancelledSummary, notifySummary, type NotifySummary } from '../notify/message';
import { buildReport } from '../report/build';
import type { Incident, Sources } from '../schemas/agent';
import type { Report } from '../schemas/report';
import { finishedDetails, runningDetails } from './details';
import { describeFailure as describe, rootFailure } from './failures';
import { specialistIds } from './ids';
import { type InvestigationProgress, investigationProgress, queuedProgress, specialistProgressSignal } from './progress';
import { SERVICE_SEARCH_ATTRIBUTE, SEVERITY_SEARCH_ATTRIBUTE, STATUS_SEARCH_ATTRIBUTE } from './search-attributes';
import { executeSpecialist } from './specialist';
import type { InvestigateInput, NotifyTarget, SpecialistOutput } from './types';
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
const BRAIN_TURN = {
  startToCloseTimeout: '7m',
  heartbeatTimeout: '20s',
  retry: { initialInterval: '2s', backoffCoefficient: 2, maximumInterval: '30s', maximumAttempts: 5 },
} as const;
/** Each turn is listed in the UI's event history with its number, not as a bare type name. */
const brainTurnStep = (turn: number, maxTurns: number) =>
  proxyActivities<ReturnType<typeof createBrainActivities>>({ ...BRAIN_TURN, summary: `brain turn ${turn} of ${maxTurns}` }).brainTurn;
/** A webhook that is down is retried for about half a minute (5 attempts), then given up on: never fatal. */
const notifyStep = (t: NotifyTarget) =>
  proxyActivities<ReturnType<typeof createNotifyActivities>>({
    startToCloseTimeout: '15s',
    retry: { initialInterval: '2s', backoffCoefficient: 2, maximumInterval: '10s', maximumAttempts: 5 },
    summary: `notify (${t.format}) ${t.url ? safeHost(t.url) : `$${t.urlEnv}`}`,
  }).postNotification;
/** Each webhook is retried on its own; one that stays down is given up on, never fatal. */
async function notifyAll(targets: NotifyTarget[], summary: NotifySummary): Promise<void> {
  await Promise.all(targets.map((t) => notifyStep(t)({ target: t, summary }).catch(() => undefined)));
}
/** Only the host of a webhook URL is shown: its path may be the secret (Slack). */
function safeHost(url: string): string {
  const m = /^[a-z]+:\/\/([^/?#@]*@)?([^/?#]+)/i.exec(url);
  return m ? m[2]! : 'webhook';
}

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
  const notConfigured = new Map((input.unconfigured ?? []).map((u) => [u.agent, u.reason] as const));
  const notConfiguredText = [...notConfigured].map(([agent, reason]) => `${agent} (${reason})`);
  // The UI's current details follow the run: each specialist's step, then the report's headline.
  const showProgress = () => setCurrentDetails(runningDetails(progress, notConfiguredText));
  setHandler(investigationProgress, () => progress);
  setHandler(specialistProgressSignal, (p) => {
    const i = progress.specialists.findIndex((s) => s.workflowId === p.workflowId);
    if (i >= 0) progress.specialists[i] = p;
    else progress.specialists.push(p);
    showProgress();
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
  const dispatch = async (d: Dispatch): Promise<SpecialistOutput | null> => {
    // A source the live config does not name: no sandbox, no failure, the brain is told so.
    if (notConfigured.has(d.agent)) return null;
    const workflowId = nextId(d.agent);
    progress.specialists.push(queuedProgress(workflowId, d.agent, d.task));
    showProgress();
    return executeSpecialist(workflowId, { agent: d.agent, task: d.task, incident, sources });
  };

  try {
    for (let turn = 1; turn <= maxTurns; turn++) {
      // Past the deadline the brain gets its last turn: no more dispatches, conclude now.
      const overdue = Date.now() > deadline;
      if (overdue) reasons.push(`deadline of ${deadlineMinutes} min reached after ${turns} turns`);
      progress.turn = turn;
      showProgress();
      let r;
      try {
        r = await brainTurnStep(turn, maxTurns)({ incident, transcript, turn: overdue ? maxTurns : turn, maxTurns });
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
      outputs.push(...results.filter((o): o is SpecialistOutput => o !== null));
      const outcomes = results.map((o, i) =>
        o ? outcomeOf(o) : { ok: false as const, error: `not configured: ${notConfigured.get(r.dispatches[i]!.agent)}` },
      );
      transcript.push(toolResultsMessage(r.assistant, r.dispatches, r.invalid, outcomes));
    }
  } catch (err) {
    if (isCancellation(err)) {
      progress.status = 'cancelled';
      await CancellationScope.nonCancellable(async () => {
        upsertSearchAttributes([{ key: STATUS_SEARCH_ATTRIBUTE, value: 'cancelled' }]);
        if (!input.notify?.length) return;
        // Whoever was told it started is told it ended, cancelled included.
        setCurrentDetails('**cancelled** before a conclusion');
        await notifyAll(input.notify, cancelledSummary(incident, info.workflowId, input.link ?? null));
      });
    }
    throw err;
  }

  const built = buildReport({
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
  const report: Report = notConfigured.size
    ? { ...built, warnings: [...built.warnings, ...notConfiguredText.map((t) => `not configured: ${t}`)] }
    : built;
  progress.status = report.status;
  upsertSearchAttributes([{ key: STATUS_SEARCH_ATTRIBUTE, value: report.status }]);
  setCurrentDetails(finishedDetails(report));
  if (input.notify?.length) {
    await notifyAll(input.notify, notifySummary(report, input.link ?? null));
  }
  return report;
}
