import { ApplicationFailure } from '@temporalio/common';
import { notifyBody, type NotifySummary } from '../notify/message';
import type { NotifyTarget } from '../workflows/types';

/** Where a target posts: its literal URL, or the value of the worker's env var it names. */
export function targetUrl(t: NotifyTarget, env: NodeJS.ProcessEnv = process.env): string {
  if (t.url) return t.url;
  const v = t.urlEnv ? env[t.urlEnv] : undefined;
  if (!v) throw ApplicationFailure.nonRetryable(`notify: environment variable ${t.urlEnv ?? '(none)'} is not set on the worker`, 'NotifyUnconfigured');
  return v;
}

export function createNotifyActivities(env: NodeJS.ProcessEnv = process.env) {
  return {
    /**
     * One POST to one webhook. 5xx, 429 and network errors are retried by Temporal; any other 4xx
     * will not succeed on a retry. The workflow ignores a final failure: a notification never
     * fails the investigation.
     */
    async postNotification(a: { target: NotifyTarget; summary: NotifySummary }): Promise<{ status: number }> {
      const url = targetUrl(a.target, env);
      let res: Response;
      try {
        res = await fetch(url, {
          method: 'POST',
          headers: { 'content-type': 'application/json', 'user-agent': 'bulkhead' },
          body: JSON.stringify(notifyBody(a.summary, a.target.format)),
          signal: AbortSignal.timeout(10_000),
        });
      } catch (e) {
        throw ApplicationFailure.retryable(`notify: ${(e as Error).message}`, 'NotifyUnreachable');
      }
      await res.body?.cancel().catch(() => undefined);
      if (res.ok) return { status: res.status };
      const message = `notify: webhook answered ${res.status}`;
      if (res.status >= 500 || res.status === 429) throw ApplicationFailure.retryable(message, 'NotifyFailed');
      throw ApplicationFailure.nonRetryable(message, 'NotifyRejected');
    },
  };
}
