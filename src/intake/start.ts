import { type Client, WorkflowExecutionAlreadyStartedError, WorkflowNotFoundError } from '@temporalio/client';
import type { InvestigateInput } from '../workflows/types';
import { mdText } from '../workflows/details';
import { investigationId } from '../workflows/ids';

export interface LiveStart {
  incidentId: string;
  input: InvestigateInput;
  /** Temporal UI list line: title, service, severity. */
  summary: string;
  /** Temporal UI details (markdown): what was reported, or the alert that started it. */
  details: string;
}

export type StartStatus = 'started' | 'joined';

/** The static summary the UI lists: title, service, severity (its limit is about 200 bytes). */
export function uiSummary(title: string, service: string, severity: string): string {
  return `${title.slice(0, 120)} · ${service} · ${severity}`;
}

/** Static details (markdown) of a scenario or CLI investigation: what was reported, and when. */
export function scenarioDetails(i: { report: string; service: string; severity: string; window: { start: string; end: string } }): string {
  return [`**Reported**: ${mdText(i.report)}`, '', `Service \`${i.service}\`, severity ${i.severity}, window ${i.window.start} to ${i.window.end}.`].join('\n');
}

/**
 * Starts the investigation, or joins the one already under that id: a running one always, a
 * finished one if it closed less than `dedupeForMs` ago. Past that the id is reused for a new run.
 * Two racing starts are settled by the server: the loser gets AlreadyStarted and joins.
 */
export async function startOrJoin(client: Client, taskQueue: string, s: LiveStart, dedupeForMs: number, now = Date.now()): Promise<{ id: string; status: StartStatus }> {
  const id = investigationId(s.incidentId);
  try {
    const d = await client.workflow.getHandle(id).describe();
    if (d.status.name === 'RUNNING') return { id, status: 'joined' };
    if (d.closeTime && now - d.closeTime.getTime() < dedupeForMs) return { id, status: 'joined' };
  } catch (e) {
    if (!(e instanceof WorkflowNotFoundError)) throw e;
  }
  try {
    await client.workflow.start('investigateIncident', {
      taskQueue,
      workflowId: id,
      args: [s.input],
      workflowIdReusePolicy: 'ALLOW_DUPLICATE',
      workflowIdConflictPolicy: 'FAIL',
      staticSummary: s.summary,
      staticDetails: s.details,
    });
    return { id, status: 'started' };
  } catch (e) {
    if (e instanceof WorkflowExecutionAlreadyStartedError) return { id, status: 'joined' };
    throw e;
  }
}
