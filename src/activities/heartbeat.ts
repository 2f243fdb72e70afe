import { Context } from '@temporalio/activity';

/**
 * Runs fn with a heartbeat every intervalMs, so a worker that dies mid-call is noticed in
 * seconds rather than at the activity's timeout. Outside an activity (unit tests, the warm pool)
 * it only runs fn.
 */
export async function heartbeating<T>(intervalMs: number, fn: () => Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  try {
    const ctx = Context.current();
    timer = setInterval(() => ctx.heartbeat(), intervalMs);
  } catch {
    // Not in an activity.
  }
  try {
    return await fn();
  } finally {
    clearInterval(timer);
  }
}
