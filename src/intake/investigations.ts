import { type Client, WorkflowNotFoundError } from '@temporalio/client';
import { withChildSteps } from '../cli/child-progress';
import type { Report } from '../schemas/report';
import type { investigateIncident } from '../workflows';
import { investigationProgress, type InvestigationProgress } from '../workflows/progress';
import { SERVICE_SEARCH_ATTRIBUTE, STATUS_SEARCH_ATTRIBUTE } from '../workflows/search-attributes';

export type InvestigationStatus = 'running' | 'completed' | 'partial' | 'failed' | 'cancelled';

export interface InvestigationView {
  id: string;
  status: InvestigationStatus;
  progress: InvestigationProgress | null;
  report: Report | null;
}

/** A query needs a worker; a closed workflow with none polling must not hang the request. */
async function within<T>(p: Promise<T>, ms: number): Promise<T | null> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<null>((r) => (timer = setTimeout(() => r(null), ms)));
  try {
    return await Promise.race([p.catch(() => null), timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/** GET /v1/investigations/ID: status, progress, and the report once done; null when unknown. */
export async function investigationView(client: Client, id: string): Promise<InvestigationView | null> {
  const handle = client.workflow.getHandle<typeof investigateIncident>(id);
  let status: string;
  try {
    status = (await handle.describe()).status.name;
  } catch (e) {
    if (e instanceof WorkflowNotFoundError) return null;
    throw e;
  }
  const progress = await within(handle.query(investigationProgress).then((p) => withChildSteps(handle, p)), 3000);
  if (status === 'RUNNING') return { id, status: 'running', progress, report: null };
  if (status === 'COMPLETED') {
    const report: Report = await handle.result();
    return { id, status: report.status, progress, report };
  }
  return { id, status: status === 'CANCELLED' ? 'cancelled' : 'failed', progress, report: null };
}

/** GET /v1/investigations: the most recent ones, newest first. */
export async function recentInvestigations(client: Client, limit = 50) {
  const out: { id: string; status: InvestigationStatus; service: string | null; startedAt: string }[] = [];
  for await (const w of client.workflow.list({ query: 'WorkflowType = "investigateIncident"', pageSize: limit })) {
    const name = w.status.name;
    const searched = w.typedSearchAttributes.get(SERVICE_SEARCH_ATTRIBUTE);
    // A completed workflow's report may say partial: the status attribute carries it.
    const reported = w.typedSearchAttributes.get(STATUS_SEARCH_ATTRIBUTE);
    out.push({
      id: w.workflowId,
      status:
        name === 'RUNNING' ? 'running'
        : name === 'COMPLETED' ? (reported === 'partial' || reported === 'failed' ? reported : 'completed')
        : name === 'CANCELLED' ? 'cancelled'
        : 'failed',
      service: searched ?? null,
      startedAt: w.startTime.toISOString(),
    });
    if (out.length >= limit) break;
  }
  return out;
}
