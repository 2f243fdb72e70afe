import { WorkflowFailedError } from '@temporalio/client';
import type { Config } from '../config';
import { InputError } from '../errors';
import { OPTIONAL_ENV, REQUIRED_ENV, removeCredentials, writeCredentials } from '../session/credentials';
import { SESSION_ID_PATTERN, sessionWorkflowId } from '../workflows/ids';
import type { managedSession } from '../workflows';
import { connectClient, requireAddress } from './client';

/** The poller gives 30 s after SIGTERM; leave a margin for the connection to close. */
const CANCEL_WAIT_MS = 25_000;

async function readStdin(): Promise<string> {
  if (process.stdin.isTTY) return '';
  const chunks: Buffer[] = [];
  for await (const c of process.stdin) chunks.push(c as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

/**
 * `bulkhead on-work`, the --on-work script of `ant beta:worker poll`: starts the session's
 * managedSession workflow (or attaches to it if it already runs), blocks until it ends, and on
 * SIGTERM cancels it and waits until its sandboxes are deleted. Credentials reach the worker
 * through the handoff file, never through workflow input.
 */
export async function onWork(config: Config, env: NodeJS.ProcessEnv = process.env): Promise<number> {
  for (const k of REQUIRED_ENV) if (!env[k]) throw new InputError(k, 'not set: `bulkhead on-work` is run by `ant beta:worker poll --on-work`');
  const sessionId = env.ANTHROPIC_SESSION_ID!;
  if (!SESSION_ID_PATTERN.test(sessionId)) throw new InputError('ANTHROPIC_SESSION_ID', `expected ${SESSION_ID_PATTERN}`);
  const address = requireAddress(config.TEMPORAL_ADDRESS, 'on-work');
  const workItem = await readStdin();
  if (workItem.trim()) {
    try {
      JSON.parse(workItem);
    } catch {
      throw new InputError('stdin', 'the work item is not JSON');
    }
  }

  const handoff: Record<string, string> = {};
  for (const k of [...REQUIRED_ENV, ...OPTIONAL_ENV]) if (env[k]) handoff[k] = env[k]!;
  await writeCredentials(config, sessionId, { env: handoff, workItem });

  const log = (l: string) => console.error(`on-work ${sessionId}: ${l}`);
  const { client, close } = await connectClient(address, config.TEMPORAL_NAMESPACE);
  let cancelled = false;
  let onSignal = () => {};
  const terminated = new Promise<void>((resolve) => {
    onSignal = () => resolve();
  });
  process.once('SIGTERM', onSignal);
  process.once('SIGINT', onSignal);
  try {
    const handle = await client.workflow.start<typeof managedSession>('managedSession', {
      taskQueue: config.BULKHEAD_TASK_QUEUE,
      workflowId: sessionWorkflowId(sessionId),
      args: [{ sessionId }],
      // A poller that restarts re-runs the shim for a session that already runs: join it.
      workflowIdConflictPolicy: 'USE_EXISTING',
      staticSummary: `Managed Agents session ${sessionId}`,
    });
    log(`workflow ${handle.workflowId} (run ${handle.firstExecutionRunId})`);
    const result = handle.result();
    result.catch(() => undefined);
    const first = await Promise.race([result.then(() => 'done' as const, () => 'done' as const), terminated.then(() => 'signal' as const)]);
    if (first === 'signal') {
      cancelled = true;
      log('SIGTERM: cancelling the session and deleting its sandboxes');
      await handle.cancel();
      const waited = await Promise.race([
        result.then(() => true, () => true),
        new Promise<false>((r) => setTimeout(() => r(false), CANCEL_WAIT_MS).unref()),
      ]);
      if (!waited) {
        log(`not closed within ${CANCEL_WAIT_MS / 1000} s; \`bulkhead sandbox reap\` deletes what is left`);
        return 1;
      }
      log('cancelled; sandboxes deleted');
      return 0;
    }
    try {
      const out = await result;
      log(`ended: ${out.dispatches.length} dispatches`);
      return 0;
    } catch (e) {
      let cause: unknown = e instanceof WorkflowFailedError ? e.cause : e;
      // The innermost message says what broke, not "Activity task failed".
      while (cause instanceof Error && cause.cause instanceof Error) cause = cause.cause;
      log(`failed: ${cause instanceof Error ? cause.message : String(cause)}`);
      return 1;
    }
  } finally {
    process.off('SIGTERM', onSignal);
    process.off('SIGINT', onSignal);
    // Normally the worker took (and deleted) it already; this covers a session that never ran.
    await removeCredentials(config, sessionId);
    await close();
    if (cancelled) log('exiting');
  }
}
