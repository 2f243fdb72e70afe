import { Client, Connection } from '@temporalio/client';
import { type ChildProcess, spawn } from 'node:child_process';
import { cp, mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { inject } from 'vitest';
import { LocalDriver } from '../../src/sandbox/local';
import { POLICY_DIR } from '../../src/sandbox/policy';
import { REPO_ROOT } from '../../src/stack/tools';
import type { Standin } from './managed-agents-standin';

const CHILD = path.join(REPO_ROOT, 'test/support/agents-worker-child.ts');

/** One Managed Agents deployment under test: its dirs, queue, Temporal client, worker processes. */
export interface AgentsRig {
  client: Client;
  taskQueue: string;
  stateDir: string;
  sandboxRoot: string;
  local: LocalDriver;
  env: Record<string, string>;
  /** Starts `agents-worker` (the child wrapper) as a process of its own. */
  startWorker(): WorkerProc;
  close(): Promise<void>;
}

export interface WorkerProc {
  proc: ChildProcess;
  output: () => string;
  exit: Promise<number | null>;
}

export async function agentsRig(api: Standin, extraEnv: Record<string, string> = {}): Promise<AgentsRig> {
  const address = inject('temporalAddress');
  const stateDir = await mkdtemp(path.join(tmpdir(), 'bh-test-state-'));
  const sandboxRoot = await mkdtemp(path.join(tmpdir(), 'bh-sbx-h-ant-'));
  const policyDir = await mkdtemp(path.join(tmpdir(), 'bh-test-policies-'));
  await cp(POLICY_DIR, policyDir, { recursive: true });
  const taskQueue = `test-agents-${Math.random().toString(36).slice(2, 10)}`;
  const connection = await Connection.connect({ address });
  const client = new Client({ connection });
  const env: Record<string, string> = {
    PATH: process.env.PATH!,
    HOME: process.env.HOME!,
    TEMPORAL_ADDRESS: address,
    BULKHEAD_TASK_QUEUE: taskQueue,
    BULKHEAD_SANDBOX_ROOT: sandboxRoot,
    BULKHEAD_STATE_DIR: stateDir,
    BH_TEST_POLICY_DIR: policyDir,
    ANTHROPIC_BASE_URL: api.url,
    ANTHROPIC_ENVIRONMENT_ID: api.environmentId,
    ANTHROPIC_ENVIRONMENT_KEY: api.environmentKey,
    // The stubbed metrics agent never queries it, but its policy requires a Prometheus target.
    PROMETHEUS_URL: 'http://127.0.0.1:9',
    BULKHEAD_SESSION_MAX_IDLE_MS: '1500',
    ...extraEnv,
  };
  const procs: ChildProcess[] = [];
  return {
    client,
    taskQueue,
    stateDir,
    sandboxRoot,
    local: new LocalDriver({ root: sandboxRoot }),
    env,
    startWorker() {
      // node itself (tsx as a loader, not the tsx CLI, which would be a parent process): a
      // SIGKILL must hit the worker, not a wrapper that leaves it running.
      const proc = spawn(process.execPath, ['--import', 'tsx', CHILD], { env, stdio: ['ignore', 'pipe', 'pipe'], cwd: REPO_ROOT });
      procs.push(proc);
      let out = '';
      proc.stdout!.on('data', (c) => (out += c));
      proc.stderr!.on('data', (c) => (out += c));
      return { proc, output: () => out, exit: new Promise((r) => proc.once('exit', (code) => r(code))) };
    },
    async close() {
      for (const p of procs) if (p.exitCode === null && p.signalCode === null) p.kill('SIGKILL');
      await client.workflow.getHandle(`agents-poll-${api.environmentId}`).terminate('test over').catch(() => undefined);
      await connection.close();
    },
  };
}

/** Payload bytes as text, so a search sees inputs, results, Update arguments and heartbeats. */
export async function historyText(client: Client, workflowId: string): Promise<string> {
  return JSON.stringify(await client.workflow.getHandle(workflowId).fetchHistory(), (_k, v) => (v instanceof Uint8Array ? Buffer.from(v).toString('utf8') : v));
}
