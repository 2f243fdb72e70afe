import { ActivityFailure, ApplicationFailure, ChildWorkflowFailure } from '@temporalio/workflow';

/** The innermost cause of an activity or child failure: its own message, not "Activity task failed". */
export function rootFailure(err: unknown): unknown {
  let e: unknown = err;
  while ((e instanceof ActivityFailure || e instanceof ChildWorkflowFailure) && e.cause) e = e.cause;
  return e;
}

export function describeFailure(err: unknown): string {
  const e = rootFailure(err);
  return e instanceof Error ? e.message : String(err);
}

export function failureType(err: unknown): string | null {
  const e = rootFailure(err);
  return e instanceof ApplicationFailure ? (e.type ?? null) : null;
}

export function isRetryableFailure(err: unknown): boolean {
  const e = rootFailure(err);
  return !(e instanceof ApplicationFailure && e.nonRetryable);
}
