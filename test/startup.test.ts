import { Client, Connection } from '@temporalio/client';
import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { loadConfig } from '../src/config';
import { LocalDriver } from '../src/sandbox/local';
import { startEmbeddedStack } from '../src/stack/embedded';
import { REPO_ROOT } from '../src/stack/tools';
import { REAPER_SCHEDULE_ID } from '../src/workers/schedule';
import { until } from './support/until';

// What the local driver cannot enforce is said once when a worker starts (and in every report:
// test/denials-e2e.test.ts), and each worker start sets up the orphan reaper Schedule.
const limitations = new LocalDriver().limitations;
const count = (text: string, needle: string) => text.split(needle).length - 1;

describe('at start-up', () => {
  let root: string;
  beforeAll(async () => {
    root = await mkdtemp(path.join(tmpdir(), 'bh-startup-'));
  });
  afterAll(() => rm(root, { recursive: true, force: true }));

  it('`bulkhead worker` states each limitation once and ensures the reaper Schedule', async () => {
    const address = inject('temporalAddress');
    const taskQueue = `test-startup-${Date.now()}`;
    const child = spawn(process.execPath, [path.join(REPO_ROOT, 'bin/bulkhead.mjs'), 'worker'], {
      env: { PATH: process.env.PATH!, HOME: process.env.HOME!, TEMPORAL_ADDRESS: address, BULKHEAD_TASK_QUEUE: taskQueue, BULKHEAD_SANDBOX_ROOT: root },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    child.stdout.on('data', (c) => (out += c));
    child.stderr.on('data', (c) => (out += c));
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    const connection = await Connection.connect({ address });
    const schedule = new Client({ connection }).schedule.getHandle(REAPER_SCHEDULE_ID);
    try {
      await until(() => out.includes('reaps orphaned sandboxes') || child.exitCode !== null, 60_000, 'worker start-up');
      expect(out).toContain(`worker on ${address}, task queue ${taskQueue}, sandbox driver local`);
      for (const l of limitations) expect(count(out, `sandbox driver local limitation: ${l}`), l).toBe(1);
      expect(out).toContain(`schedule ${REAPER_SCHEDULE_ID} reaps orphaned sandboxes every 5 min`);
      const d = await schedule.describe();
      expect(d.action).toMatchObject({ type: 'startWorkflow', workflowType: 'reapOrphans', taskQueue });
    } finally {
      child.kill('SIGTERM');
      expect(await exited).toBe(0);
      // The run's dev server is shared: leave no schedule pointing at this test's task queue.
      await schedule.delete().catch(() => undefined);
      await connection.close();
    }
  });

  it('the embedded stack (`dev`, `demo`, `investigate`) does the same', async () => {
    const lines: string[] = [];
    const config = loadConfig({ BULKHEAD_SANDBOX_ROOT: root, BULKHEAD_TASK_QUEUE: 'bulkhead' });
    const stack = await startEmbeddedStack({ config, omFiles: [], log: (l) => lines.push(l) });
    try {
      const text = lines.join('\n');
      for (const l of limitations) expect(count(text, `sandbox driver local limitation: ${l}`), l).toBe(1);
      expect(text).toContain(`schedule ${REAPER_SCHEDULE_ID} reaps orphaned sandboxes every 5 min`);
      const connection = await Connection.connect({ address: stack.address });
      try {
        const d = await new Client({ connection }).schedule.getHandle(REAPER_SCHEDULE_ID).describe();
        expect(d.action).toMatchObject({ workflowType: 'reapOrphans', taskQueue: 'bulkhead' });
      } finally {
        await connection.close();
      }
    } finally {
      await stack.stop();
    }
  });
});
