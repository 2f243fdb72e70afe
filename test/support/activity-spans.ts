import type { Client } from '@temporalio/client';

interface Ev {
  eventId?: unknown;
  eventTime?: { seconds?: unknown; nanos?: unknown } | null;
  activityTaskScheduledEventAttributes?: { activityType?: { name?: string | null } | null } | null;
  activityTaskStartedEventAttributes?: { scheduledEventId?: unknown } | null;
  activityTaskCompletedEventAttributes?: { scheduledEventId?: unknown } | null;
  activityTaskFailedEventAttributes?: { scheduledEventId?: unknown } | null;
}

const ms = (t: Ev['eventTime']) => Number(t?.seconds ?? 0) * 1000 + Math.floor(Number(t?.nanos ?? 0) / 1e6);

/**
 * When each execution of an activity ran, from a workflow's history: the server's own clock for
 * "started" and "completed/failed". Workflow start/close times only say a child was scheduled;
 * these say its sandbox work was actually in flight.
 */
export async function activitySpans(client: Client, workflowId: string, activity: string): Promise<{ start: number; end: number }[]> {
  const history = await client.workflow.getHandle(workflowId).fetchHistory();
  const events = (history.events ?? []) as Ev[];
  const scheduled = new Set(
    events.filter((e) => e.activityTaskScheduledEventAttributes?.activityType?.name === activity).map((e) => String(e.eventId)),
  );
  const started = new Map<string, number>();
  const spans: { start: number; end: number }[] = [];
  for (const e of events) {
    const s = e.activityTaskStartedEventAttributes?.scheduledEventId;
    if (s !== undefined && scheduled.has(String(s))) started.set(String(s), ms(e.eventTime));
    const done = e.activityTaskCompletedEventAttributes?.scheduledEventId ?? e.activityTaskFailedEventAttributes?.scheduledEventId;
    if (done !== undefined && started.has(String(done))) spans.push({ start: started.get(String(done))!, end: ms(e.eventTime) });
  }
  return spans;
}
