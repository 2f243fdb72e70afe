import { chmod, mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { Config } from '../config';
import { REPO_ROOT } from '../stack/tools';

/**
 * Per work item, worker-side state that must never enter workflow history: the work secret
 * (base64url {sessions_token, ...} from the poll response, or `.secret` from the poller's stdin)
 * and the lease's last heartbeat echo. A 0600 file in a 0700 directory, keyed by WORK id (a
 * dormant session woken by a new message gets a new item), so a worker that restarts on this
 * host resumes the lease where the killed one left it. Multi-host deployments would keep this
 * in their secret store instead.
 */
export interface WorkState {
  secret: string;
  lastHeartbeat: string | null;
}

export const WORK_ID_PATTERN = /^[A-Za-z0-9_-]{1,128}$/;

export function stateDir(config: Config): string {
  return path.resolve(config.BULKHEAD_STATE_DIR ?? path.join(REPO_ROOT, '.bulkhead'));
}
const dirOf = (config: Config) => path.join(stateDir(config), 'work');
function fileOf(config: Config, workId: string): string {
  if (!WORK_ID_PATTERN.test(workId)) throw new Error(`work id ${JSON.stringify(workId)}: expected ${WORK_ID_PATTERN}`);
  return path.join(dirOf(config), `${workId}.json`);
}

export async function writeWorkState(config: Config, workId: string, state: WorkState): Promise<void> {
  const dir = dirOf(config);
  await mkdir(dir, { recursive: true, mode: 0o700 });
  await chmod(dir, 0o700);
  const file = fileOf(config, workId);
  const tmp = `${file}.${process.pid}.${Math.random().toString(36).slice(2)}.tmp`;
  await writeFile(tmp, JSON.stringify(state), { mode: 0o600 });
  // Atomic: a reader never sees half a file, even with a worker killed mid-write.
  await rename(tmp, file);
}

export async function readWorkState(config: Config, workId: string): Promise<WorkState | null> {
  try {
    return JSON.parse(await readFile(fileOf(config, workId), 'utf8')) as WorkState;
  } catch {
    return null;
  }
}

/** Adds the secret unless one is there: a redelivered item must not reset a live lease's echo. */
export async function rememberSecret(config: Config, workId: string, secret: string): Promise<void> {
  const had = await readWorkState(config, workId);
  if (!had) await writeWorkState(config, workId, { secret, lastHeartbeat: null });
}

export async function forgetWork(config: Config, workId: string): Promise<void> {
  await rm(fileOf(config, workId), { force: true });
}
