import { WorkflowFailedError } from '@temporalio/client';
import type { Config } from '../config';
import { InputError } from '../errors';
import { sessionsTokenFromSecret } from '../session/secret';
import { forgetWork, WORK_ID_PATTERN, writeWorkState } from '../session/work-state';
import { workWorkflowId } from '../workflows/ids';
import type { managedSession } from '../workflows';
import type { SessionInput } from '../workflows/session';
import { connectClient, requireAddress } from './client';

/** The poller gives 30 s after SIGTERM; leave a margin for the connection to close. */
const CANCEL_WAIT_MS = 25_000;
const RETRY_CONNECT_MS = 10_000;

async function readStdin(): Promise<string> {
  if (process.stdin.isTTY) return '';
  const chunks: Buffer[] = [];
  for await (const c of process.stdin) chunks.push(c as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

/** What this item is, from the env the poller sets and the work item JSON on stdin. */
export function parseWorkItem(env: NodeJS.ProcessEnv, stdin: string): { workId: string; sessionId: string; environmentId: string; secret: string } {
  for (const k of ['ANTHROPIC_WORK_ID', 'ANTHROPIC_SESSION_ID', 'ANTHROPIC_ENVIRONMENT_ID'] as const) {
    if (!env[k]) throw new InputError(k, 'not set: bin/bulkhead-on-work is run by `ant beta:worker poll --on-work`');
    if (!WORK_ID_PATTERN.test(env[k]!)) throw new InputError(k, `expected ${WORK_ID_PATTERN}`);
  }
  let item: { id?: unknown; data?: { id?: unknown }; secret?: unknown };
  try {
    item = JSON.parse(stdin) as typeof item;
  } catch {
    throw new InputError('stdin', 'expected the work item as JSON (the poller writes it there)');
  }
  if (!item || typeof item !== 'object') throw new InputError('stdin', 'expected the work item as a JSON object');
  if (item.id !== undefined && item.id !== env.ANTHROPIC_WORK_ID) throw new InputError('stdin.id', 'does not match ANTHROPIC_WORK_ID');
  if (item.data?.id !== undefined && item.data.id !== env.ANTHROPIC_SESSION_ID) throw new InputError('stdin.data.id', 'does not match ANTHROPIC_SESSION_ID');
  // The poller does not export ANTHROPIC_WORK_SECRET: the secret is `.secret` on stdin.
  if (typeof item.secret !== 'string' || !sessionsTokenFromSecret(item.secret)) {
    throw new InputError('stdin.secret', 'missing, or carries no sessions_token (base64url JSON)');
  }
  return { workId: env.ANTHROPIC_WORK_ID!, sessionId: env.ANTHROPIC_SESSION_ID!, environmentId: env.ANTHROPIC_ENVIRONMENT_ID!, secret: item.secret };
}

/**
 * `bin/bulkhead-on-work`, the --on-work executable of `ant beta:worker poll`: one session per
 * poller (the poller runs one script at a time and stops the item when it exits). Starts (or
 * joins) workflow `work-<workId>` with the item's secret kept on this host only, blocks until it
 * ends, and on SIGTERM cancels it and waits until its sandboxes are deleted. The environment key
 * the poller exports is never used nor forwarded. A Temporal frontend that cannot be reached is
 * retried rather than fatal: exiting would make the poller stop this item and claim the next.
 */
export async function onWork(config: Config, env: NodeJS.ProcessEnv = process.env): Promise<number> {
  const item = parseWorkItem(env, await readStdin());
  const address = requireAddress(config.TEMPORAL_ADDRESS, 'on-work');
  const log = (l: string) => console.error(`on-work ${item.workId}: ${l}`);
  let onSignal = () => {};
  let signalled = false;
  const terminated = new Promise<void>((resolve) => {
    onSignal = () => {
      signalled = true;
      resolve();
    };
  });
  process.once('SIGTERM', onSignal);
  process.once('SIGINT', onSignal);
  await writeWorkState(config, item.workId, { secret: item.secret, lastHeartbeat: null });
  let conn: Awaited<ReturnType<typeof connectClient>> | undefined;
  try {
    while (!conn) {
      try {
        conn = await connectClient(address, config.TEMPORAL_NAMESPACE);
      } catch (e) {
        log(`${(e as Error).message}; retrying in ${RETRY_CONNECT_MS / 1000} s`);
        await Promise.race([terminated, new Promise((r) => setTimeout(r, RETRY_CONNECT_MS))]);
        if (signalled) return 1;
      }
    }
    const input: SessionInput = { workId: item.workId, environmentId: item.environmentId, sessionId: item.sessionId, ack: false };
    const handle = await conn.client.workflow.start<typeof managedSession>('managedSession', {
      taskQueue: config.BULKHEAD_TASK_QUEUE,
      workflowId: workWorkflowId(item.workId),
      args: [input],
      // A restarted poller re-runs the script for an item that already runs: join it.
      workflowIdConflictPolicy: 'USE_EXISTING',
      staticSummary: `Managed Agents session ${item.sessionId} (work ${item.workId})`,
    });
    log(`workflow ${handle.workflowId} (run ${handle.firstExecutionRunId})`);
    const result = handle.result();
    result.catch(() => undefined);
    const first = await Promise.race([result.then(() => 'done' as const, () => 'done' as const), terminated.then(() => 'signal' as const)]);
    if (first === 'signal') {
      log('SIGTERM: cancelling the session and deleting its sandboxes');
      await handle.cancel();
      const waited = await Promise.race([result.then(() => true, () => true), new Promise<false>((r) => setTimeout(() => r(false), CANCEL_WAIT_MS).unref())]);
      if (!waited) {
        log(`not closed within ${CANCEL_WAIT_MS / 1000} s; \`bulkhead sandbox reap\` deletes what is left`);
        return 1;
      }
      log('cancelled; sandboxes deleted');
      return 0;
    }
    try {
      const out = await result;
      log(`ended (${out.end}): ${out.dispatches.length} dispatches`);
      return 0;
    } catch (e) {
      let cause: unknown = e instanceof WorkflowFailedError ? e.cause : e;
      while (cause instanceof Error && cause.cause instanceof Error) cause = cause.cause;
      log(`failed: ${cause instanceof Error ? cause.message : String(cause)}`);
      return 1;
    }
  } finally {
    process.off('SIGTERM', onSignal);
    process.off('SIGINT', onSignal);
    // Normally the workflow forgot it already; this covers a session that never ran.
    if (!conn || signalled) await forgetWork(config, item.workId).catch(() => undefined);
    await conn?.close();
  }
}
