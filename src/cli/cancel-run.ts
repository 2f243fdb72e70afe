import type { Client, WorkflowHandle } from '@temporalio/client';
import type { SandboxDriver } from '../sandbox/driver';
import { investigationProgress } from '../workflows/progress';
import type { investigateIncident } from '../workflows';
import { within } from './interrupt';

/** How long an orderly cancel may take before the leftovers are deleted here instead. */
const CANCEL_WAIT_MS = 120_000;

export interface CancelOutcome {
  /** Every specialist workflow closed (so every cleanup path the workflows own has run). */
  closed: boolean;
  /** Sandboxes of this investigation still listed by the driver after our own deletes. */
  left: string[];
  /** How many we had to delete ourselves because the workflows did not. */
  deletedHere: number;
}

/** The investigation's sandboxes, by owner (the specialist workflow `<id>/<agent>-<n>`). */
async function sandboxesOf(driver: SandboxDriver, id: string): Promise<string[]> {
  const all = await driver.list().catch(() => []);
  return all.filter((s) => s.owner === id || !!s.owner?.startsWith(`${id}/`)).map((s) => s.id);
}

/**
 * Deletes what is left of the investigation's sandboxes on this host: the last resort when the
 * workflows could not (a second signal, a stuck worker). Returns the ids still there after.
 */
export async function deleteLeftovers(driver: SandboxDriver, id: string): Promise<{ left: string[]; deleted: number }> {
  const before = await sandboxesOf(driver, id);
  await Promise.all(before.map((s) => driver.delete(s).catch(() => undefined)));
  const left = await sandboxesOf(driver, id);
  return { left, deleted: before.length - left.length };
}

/**
 * Cancels the investigation and waits for its cleanup: the workflow's result, then each
 * specialist child (a parent closes as soon as one child's cancellation lands; the others may
 * still be deleting). `stopNow` (a second signal) cuts every wait short. With a local driver the
 * outcome is checked against driver.list(), and leftovers are deleted here.
 */
export async function cancelInvestigation(opts: {
  client: Client;
  handle: WorkflowHandle<typeof investigateIncident>;
  driver: SandboxDriver | null;
  stopNow: Promise<unknown>;
}): Promise<CancelOutcome> {
  const { client, handle, driver } = opts;
  const id = handle.workflowId;
  let hurry = false;
  const now = opts.stopNow.then(() => (hurry = true));
  const deadline = Date.now() + CANCEL_WAIT_MS;
  const wait = <T>(p: Promise<T>, fallback: T) => (hurry ? Promise.resolve(fallback) : Promise.race([within(p, Math.max(0, deadline - Date.now()), fallback), now.then(() => fallback)]));

  await wait(handle.cancel().catch(() => undefined), undefined);
  let closed = await wait(handle.result().then(() => true, () => true), false);
  if (closed) {
    const progress = await wait(handle.query(investigationProgress).catch(() => null), null);
    const children = progress?.specialists.map((s) => s.workflowId) ?? [];
    const done = await Promise.all(
      children.map((wid) => wait(client.workflow.getHandle(wid).result().then(() => true, () => true), false)),
    );
    closed = progress !== null && done.every(Boolean);
  }
  if (!driver) return { closed, left: [], deletedHere: 0 };
  const { left, deleted } = await deleteLeftovers(driver, id);
  return { closed, left, deletedHere: deleted };
}

/** What the user is told after a cancel: only what was checked. */
export function cancelMessage(o: CancelOutcome, local: boolean): string {
  if (!local) {
    return o.closed
      ? 'investigation cancelled; its specialists finished their cleanup (sandbox deletes run on the worker)'
      : 'investigation cancel requested; its specialists had not finished their cleanup when we stopped waiting';
  }
  if (o.left.length) return `investigation cancelled; ${o.left.length} sandbox(es) could not be deleted: ${o.left.join(', ')} (\`bulkhead sandbox reap\` removes them)`;
  return `investigation cancelled; its sandboxes were deleted${o.deletedHere ? ` (${o.deletedHere} of them here, after the workflows stopped waiting)` : ''}`;
}
