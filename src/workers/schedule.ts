import { Client, Connection, ScheduleAlreadyRunning, ScheduleOverlapPolicy, type ScheduleUpdateOptions } from '@temporalio/client';
import type { Duration } from '@temporalio/common';
import type { ReapInput } from '../activities/reaper';
import { temporalSecurity } from '../stack/temporal-security';

export const REAPER_SCHEDULE_ID = 'bulkhead-reaper';

export interface ReaperScheduleOptions {
  /** Tests use their own id so they do not fight over the namespace's one schedule. */
  scheduleId?: string;
  /** Passed to the reaper (tests shorten the grace for young sandboxes). */
  input?: ReapInput;
}

/**
 * Creates the Schedule that reaps orphaned sandboxes, or brings an existing one up to date
 * (every worker calls this at start-up; whichever comes second updates). A sweep still running
 * when the next is due is skipped rather than queued: they would only race each other.
 */
export async function ensureReaperSchedule(client: Client, taskQueue: string, every: Duration = '5m', opts: ReaperScheduleOptions = {}): Promise<string> {
  const scheduleId = opts.scheduleId ?? REAPER_SCHEDULE_ID;
  const desired: ScheduleUpdateOptions = {
    spec: { intervals: [{ every }] },
    action: { type: 'startWorkflow', workflowType: 'reapOrphans', workflowId: `${scheduleId}-run`, taskQueue, args: [opts.input ?? {}] },
    policies: { overlap: ScheduleOverlapPolicy.SKIP },
    state: { paused: false, note: 'deletes sandboxes whose owning workflow is closed or unknown' },
  };
  try {
    await client.schedule.create({ scheduleId, ...desired });
  } catch (e) {
    if (!(e instanceof ScheduleAlreadyRunning)) throw e;
    await client.schedule.getHandle(scheduleId).update((prev) => ({ ...desired, policies: { ...prev.policies, ...desired.policies } }));
  }
  return scheduleId;
}

/**
 * For start-up code that holds an address rather than a Client: sets the Schedule up over a
 * short-lived connection and says so. Orphan sweeps are hygiene, so a namespace that refuses
 * Schedules is reported (through warn) rather than stopping the worker.
 */
export async function setUpReaperSchedule(
  address: string,
  namespace: string,
  taskQueue: string,
  log: (line: string) => void,
  warn: (line: string) => void = log,
): Promise<void> {
  let id: string;
  try {
    const connection = await Connection.connect({ address, ...temporalSecurity() });
    try {
      id = await ensureReaperSchedule(new Client({ connection, namespace }), taskQueue);
    } finally {
      await connection.close();
    }
  } catch (e) {
    warn(`reaper schedule not set up: ${(e as Error).message}`);
    return;
  }
  log(`schedule ${id} reaps orphaned sandboxes every 5 min`);
}
