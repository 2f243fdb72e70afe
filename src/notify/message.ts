import type { Incident } from '../schemas/agent';
import type { Report } from '../schemas/report';

/** What a notification says: status, root cause, top recommendation, link. Already redacted. */
export interface NotifySummary {
  workflowId: string;
  incidentId: string;
  title: string;
  service: string;
  severity: string;
  status: Report['status'] | 'cancelled';
  rootCause: string;
  recommendation: string | null;
  link: string | null;
}

export function notifySummary(report: Report, link: string | null): NotifySummary {
  return {
    workflowId: report.workflowId,
    incidentId: report.incidentId,
    title: report.title,
    service: report.service,
    severity: report.severity,
    status: report.status,
    rootCause: report.rootCause.slice(0, 1000),
    recommendation: report.recommendations[0]?.slice(0, 500) ?? null,
    link,
  };
}

/** The summary of an investigation cancelled before it had a report. */
export function cancelledSummary(i: Incident, workflowId: string, link: string | null): NotifySummary {
  return {
    workflowId,
    incidentId: i.id,
    title: i.title,
    service: i.service,
    severity: i.severity,
    status: 'cancelled',
    rootCause: 'The investigation was cancelled before it reached a conclusion.',
    recommendation: null,
    link,
  };
}

/** Slack incoming webhook: `{"text": ...}` (mrkdwn). Plain JSON: the summary itself. */
export function notifyBody(s: NotifySummary, format: 'slack' | 'json'): unknown {
  if (format === 'json') return { event: 'investigation.finished', ...s };
  const lines = [
    `*Bulkhead investigation ${s.status}*: ${s.title} (${s.service}, ${s.severity})`,
    `*Root cause:* ${s.rootCause}`,
    ...(s.recommendation ? [`*Do first:* ${s.recommendation}`] : []),
    s.link ? `<${s.link}|Open ${s.workflowId}>` : s.workflowId,
  ];
  return { text: lines.join('\n') };
}
