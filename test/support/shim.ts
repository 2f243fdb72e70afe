import { spawn } from 'node:child_process';
import path from 'node:path';
import { REPO_ROOT } from '../../src/stack/tools';

const BIN = path.join(REPO_ROOT, 'bin/bulkhead.mjs');
export const FAKE_ANT = path.join(REPO_ROOT, 'test/support/fake-ant.cjs');

export interface Shim {
  environmentKey: string;
  exit: Promise<{ code: number | null }>;
  output: () => string;
  kill: (sig: NodeJS.Signals) => void;
}

export interface ShimOptions {
  sessionId: string;
  temporalAddress: string;
  taskQueue: string;
  stateDir: string;
  /** The work item's metadata: what fake-ant does (mode: hang, forbidden: host:port). */
  metadata?: Record<string, string>;
}

/** `bulkhead on-work`, started the way `ant beta:worker poll --on-work` does: env + work item on stdin. */
export function startShim(o: ShimOptions): Shim {
  const environmentKey = `sk-ant-oat01-test-${Math.random().toString(36).slice(2)}${Math.random().toString(36).slice(2)}`;
  const child = spawn(process.execPath, [BIN, 'on-work'], {
    env: {
      PATH: process.env.PATH!,
      HOME: process.env.HOME!,
      TEMPORAL_ADDRESS: o.temporalAddress,
      BULKHEAD_TASK_QUEUE: o.taskQueue,
      BULKHEAD_STATE_DIR: o.stateDir,
      ANTHROPIC_SESSION_ID: o.sessionId,
      ANTHROPIC_WORK_ID: `work_${o.sessionId}`,
      ANTHROPIC_ENVIRONMENT_ID: 'env_test',
      ANTHROPIC_ENVIRONMENT_KEY: environmentKey,
    },
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  let out = '';
  child.stderr.on('data', (c) => (out += c));
  child.stdout.on('data', (c) => (out += c));
  const work = { type: 'work', id: `work_${o.sessionId}`, environment_id: 'env_test', data: { type: 'session', id: o.sessionId }, metadata: o.metadata ?? {} };
  child.stdin.end(JSON.stringify(work));
  return {
    environmentKey,
    exit: new Promise((resolve) => child.once('exit', (code) => resolve({ code }))),
    output: () => out,
    kill: (sig) => child.kill(sig),
  };
}
