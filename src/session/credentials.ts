import { chmod, mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { Config } from '../config';
import { REPO_ROOT } from '../stack/tools';

/**
 * The session's credentials (ANTHROPIC_ENVIRONMENT_KEY and friends) go from the shim to the
 * worker through a 0600 file in a 0700 directory, never through workflow input or history.
 * This assumes the shim and the worker share a host (the usual `ant beta:worker poll` + `bulkhead
 * worker` pair); a multi-host deployment would hand them over through its secret store instead.
 */
export interface SessionCredentials {
  env: Record<string, string>;
  /** The work item the poller gave the shim on stdin, forwarded to `ant beta:worker run`. */
  workItem: string;
}

/** The variables `ant beta:worker run` needs, as the poller sets them for the shim. */
export const REQUIRED_ENV = ['ANTHROPIC_SESSION_ID', 'ANTHROPIC_WORK_ID', 'ANTHROPIC_ENVIRONMENT_ID', 'ANTHROPIC_ENVIRONMENT_KEY'] as const;
export const OPTIONAL_ENV = ['ANTHROPIC_BASE_URL', 'ANTHROPIC_WORK_SECRET'] as const;

export function stateDir(config: Config): string {
  return path.resolve(config.BULKHEAD_STATE_DIR ?? path.join(REPO_ROOT, '.bulkhead'));
}

const sessionsDir = (config: Config): string => path.join(stateDir(config), 'sessions');

function fileOf(config: Config, sessionId: string): string {
  return path.join(sessionsDir(config), `${sessionId}.json`);
}

export async function writeCredentials(config: Config, sessionId: string, creds: SessionCredentials): Promise<string> {
  const dir = sessionsDir(config);
  await mkdir(dir, { recursive: true, mode: 0o700 });
  await chmod(dir, 0o700);
  const file = fileOf(config, sessionId);
  const tmp = `${file}.${process.pid}.tmp`;
  await writeFile(tmp, JSON.stringify(creds), { mode: 0o600 });
  // rename is atomic: the worker never reads half a file.
  await rename(tmp, file);
  return file;
}

/** Reads and deletes: once taken, the credentials live only in the worker's memory. */
export async function takeCredentials(config: Config, sessionId: string): Promise<SessionCredentials | null> {
  const file = fileOf(config, sessionId);
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch {
    return null;
  }
  await rm(file, { force: true });
  return JSON.parse(text) as SessionCredentials;
}

export async function removeCredentials(config: Config, sessionId: string): Promise<void> {
  await rm(fileOf(config, sessionId), { force: true });
}
