import Anthropic from '@anthropic-ai/sdk';
import { spawn } from 'node:child_process';
import path from 'node:path';
import { REPO_ROOT } from '../../src/stack/tools';
import type { Standin } from './managed-agents-standin';

export const ON_WORK = path.join(REPO_ROOT, 'bin/bulkhead-on-work');
/** The sheet: the poller sends SIGKILL 30 s after SIGTERM. */
const POLLER_GRACE_MS = 30_000;

export interface Shim {
  workId: string;
  exit: Promise<{ code: number | null; signal: NodeJS.Signals | null; stopStatus: number }>;
  output: () => string;
  /** What the poller does on its own SIGTERM: SIGTERM to its script, SIGKILL 30 s later. */
  terminate: () => void;
}

/**
 * `ant beta:worker poll --on-work bin/bulkhead-on-work`, as ../shared/contracts/managed-agents.md
 * describes it (from anthropic-cli pkg/cmd/worker.go): claim one item (poll + ack with the
 * environment key), exec the flag value as ONE path (no shell, no arguments) with the poller's
 * environment plus ANTHROPIC_WORK_ID, _ENVIRONMENT_ID, _SESSION_ID, _ENVIRONMENT_KEY (and NOT
 * ANTHROPIC_WORK_SECRET), the whole work item JSON on stdin; when it exits, post a graceful stop.
 */
export async function runLikePoller(api: Standin, env: Record<string, string>): Promise<Shim> {
  const client = new Anthropic({ apiKey: null, authToken: api.environmentKey, baseURL: api.url, maxRetries: 0 });
  const work = await client.beta.environments.work.poll(api.environmentId, { block_ms: 999 });
  if (!work) throw new Error('nothing to claim');
  await client.beta.environments.work.ack(work.id, { environment_id: api.environmentId });
  const child = spawn(ON_WORK, [], {
    env: {
      ...env,
      ANTHROPIC_WORK_ID: work.id,
      ANTHROPIC_ENVIRONMENT_ID: api.environmentId,
      ANTHROPIC_SESSION_ID: work.data.id,
      ANTHROPIC_ENVIRONMENT_KEY: api.environmentKey,
    },
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  let out = '';
  child.stderr.on('data', (c) => (out += c));
  child.stdout.on('data', (c) => (out += c));
  child.stdin.end(JSON.stringify(work));
  let killTimer: NodeJS.Timeout | undefined;
  const exit = new Promise<{ code: number | null; signal: NodeJS.Signals | null; stopStatus: number }>((resolve) =>
    child.once('exit', async (code, signal) => {
      clearTimeout(killTimer);
      const stopStatus = await client.beta.environments.work.stop(work.id, { environment_id: api.environmentId }).then(
        () => 200,
        (e: { status?: number }) => e.status ?? 0,
      );
      resolve({ code, signal, stopStatus });
    }),
  );
  return {
    workId: work.id,
    exit,
    output: () => out,
    terminate: () => {
      child.kill('SIGTERM');
      killTimer = setTimeout(() => child.kill('SIGKILL'), POLLER_GRACE_MS);
    },
  };
}
