import type { BrainMode, Conclusion } from '../brain/types';
import { Evidence, type Incident } from '../schemas/agent';
import type { Report } from '../schemas/report';
import type { SpecialistOutput } from '../workflows/types';
import { concludeFromEvidence } from './conclude';
import { hardenReport } from './harden';

export interface ReportInput {
  workflowId: string;
  incident: Incident;
  outputs: SpecialistOutput[];
  conclusion: Conclusion | null;
  brain: { mode: BrainMode; model: string | null; turns: number };
  driver: { kind: string; limitations: string[] };
  redactedTasks: number;
  reasons: string[];
  brainFailed: boolean;
  startedAt: string;
  finishedAt: string;
}

const earliest = (ts: (string | null)[]) =>
  ts.filter((t): t is string => !!t).sort((a, b) => Date.parse(a) - Date.parse(b))[0] ?? null;

/**
 * Merges the specialists' evidence into one: structured fields come from evidence, never from
 * the brain's prose. Later runs of the same agent (follow-up dispatches) add to earlier ones.
 */
export function mergeEvidence(outputs: SpecialistOutput[]): Evidence {
  const all = outputs.flatMap((o) => (o.result ? [o.result.evidence] : []));
  const by = (agent: string) => outputs.filter((o) => o.agent === agent && o.result).map((o) => o.result!.evidence);
  const logs = by('log_agent');
  const metrics = by('metrics_agent');
  const runbooks = by('runbook_agent');
  const topErrors = logs.flatMap((e) => e.topErrors);
  const seenSig = new Set<string>();
  const seenInc = new Set<string>();
  return Evidence.parse({
    // Logs usually see the first symptom before metrics' windows do; take the earliest either saw.
    onset: earliest([...logs.map((e) => e.onset), ...metrics.map((e) => e.onset)]),
    // The log agent tests causality (errors new since the change); its verdict, null included,
    // outranks a change the metrics merely saw. Metrics speak only when no log agent ran.
    suspectedChange: (logs.length ? logs : [...metrics, ...all]).map((e) => e.suspectedChange).find((c) => !!c) ?? null,
    culprit: [...metrics, ...logs].map((e) => e.culprit).find((c) => !!c) ?? null,
    changes: all.flatMap((e) => e.changes),
    // The log agent's ranking (severity, then count) stands; follow-ups only add new signatures.
    topErrors: topErrors.filter((t) => !seenSig.has(t.signature) && seenSig.add(t.signature)),
    anomalies: metrics.flatMap((e) => e.anomalies),
    matchedIncidents: runbooks
      .flatMap((e) => e.matchedIncidents)
      .sort((a, b) => b.score - a.score)
      .filter((m) => !seenInc.has(m.id) && seenInc.add(m.id)),
    timeline: all.flatMap((e) => e.timeline),
  });
}

const MAX_WARNINGS = 50;

const emptyEvidence = (e: Evidence) =>
  !e.onset && !e.suspectedChange && !e.culprit && ![e.changes, e.topErrors, e.anomalies, e.matchedIncidents, e.timeline].some((a) => a.length);

/** A warning that says a data source was not read at all (as the agents word it), not a skipped item. */
const SOURCE_UNREAD = /^(reading .* failed|loki unavailable|no .*source configured|.*\b(cannot|could not) (be )?read\b|.*\bpermission denied\b|.*\bEACCES\b|.*\bENOENT\b)/i;

/**
 * Why a run whose specialists "completed" is still partial: a source that could not be read, or
 * an agent whose every run returned no evidence at all (a summary of nothing is not a finding).
 */
export function evidenceReasons(outputs: SpecialistOutput[]): string[] {
  const reasons: string[] = [];
  const agents = [...new Set(outputs.map((o) => o.agent))];
  for (const agent of agents) {
    const done = outputs.filter((o) => o.agent === agent && o.status === 'completed' && o.result);
    if (!done.length) continue;
    const warnings = [...new Set(done.flatMap((o) => o.result!.warnings))];
    const unread = warnings.filter((w) => SOURCE_UNREAD.test(w));
    reasons.push(...unread.map((w) => `${agent}: ${w}`));
    if (done.every((o) => emptyEvidence(o.result!.evidence)) && !unread.length) {
      reasons.push(`${agent} returned no evidence${warnings[0] ? ` (${warnings[0]})` : ''}`);
    }
  }
  return reasons;
}

/** The specialists' warnings (skipped documents, unparsable lines), once each, named by agent. */
export function specialistWarnings(outputs: SpecialistOutput[]): string[] {
  const out = new Set<string>();
  for (const o of outputs) for (const w of o.result?.warnings ?? []) out.add(`${o.agent}: ${w}`);
  const all = [...out];
  return all.length > MAX_WARNINGS ? [...all.slice(0, MAX_WARNINGS), `${all.length - MAX_WARNINGS} more warnings`] : all;
}

export function buildReport(r: ReportInput): Report {
  const evidence = mergeEvidence(r.outputs);
  const fromEvidence = concludeFromEvidence(evidence);
  const conclusion = r.conclusion ?? fromEvidence;
  const failed = r.outputs.filter((o) => o.status === 'failed');
  const reasons = [...r.reasons, ...failed.map((o) => `${o.agent} failed: ${o.error ?? 'unknown error'}`), ...evidenceReasons(r.outputs)];
  const notDeleted = r.outputs.filter((o) => o.sandbox.created && !o.sandbox.deleted);
  reasons.push(...notDeleted.map((o) => `sandbox ${o.sandbox.id} was not deleted; the reaper will remove it`));
  const anyCompleted = r.outputs.some((o) => o.status === 'completed');
  const status = r.brainFailed || !anyCompleted ? 'failed' : reasons.length ? 'partial' : 'completed';

  const seen = new Set<string>();
  const timeline = [...evidence.timeline, ...conclusion.timeline]
    .filter((t) => !Number.isNaN(Date.parse(t.ts)))
    .sort((a, b) => Date.parse(a.ts) - Date.parse(b.ts))
    .filter((t) => {
      const k = `${t.ts}|${t.source}|${t.event}`;
      return !seen.has(k) && !!seen.add(k);
    });

  // Every string from data made safe to show, names checked (harden.ts): the report is what people read.
  return hardenReport({
    incidentId: r.incident.id,
    title: r.incident.title,
    service: r.incident.service,
    severity: r.incident.severity,
    status,
    onset: evidence.onset,
    suspectedChange: evidence.suspectedChange,
    culprit: evidence.culprit,
    matchedIncidents: evidence.matchedIncidents.map((m) => m.id),
    topErrors: evidence.topErrors.slice(0, 10),
    rootCause: conclusion.rootCause || fromEvidence.rootCause,
    recommendations: conclusion.recommendations.length ? conclusion.recommendations : fromEvidence.recommendations,
    timeline,
    specialists: r.outputs.map((o) => ({
      agent: o.agent,
      task: o.task,
      status: o.status,
      summary: o.result?.summary ?? '',
      summarizedBy: o.result?.summarizedBy ?? 'none',
      error: o.error,
      sandbox: o.sandbox,
      denials: o.denials,
      attempts: o.attempts,
      workflowId: o.workflowId,
      durationMs: o.durationMs,
    })),
    brain: r.brain,
    sandboxDriver: r.driver,
    redactedTasks: r.redactedTasks,
    reasons,
    warnings: specialistWarnings(r.outputs),
    workflowId: r.workflowId,
    startedAt: r.startedAt,
    finishedAt: r.finishedAt,
  });
}
