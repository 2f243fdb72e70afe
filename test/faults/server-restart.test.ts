/**
 * Restart the Temporal dev server (persisted with --db-filename) while investigations run: the
 * worker reconnects, and every investigation completes once the server is back.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Report } from '../../src/schemas/report';
import { freePort } from '../../src/stack/ports';
import { startDevServer, type DevServer } from '../../src/stack/temporal';
import { startProcessStack, type ProcessStack } from '../support/process-stack';
import { readRunLog, until } from '../support/until';

describe('Temporal dev server restarted mid-investigation', () => {
  let dir: string;
  let port: number;
  let server: DevServer | null = null;
  let stack: ProcessStack;
  const serve = async () => (server = await startDevServer({ port, uiPort: false, dbFile: path.join(dir, 'temporal.db') }));
  beforeAll(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'bh-restart-'));
    port = await freePort();
    await serve();
    // Agent runs are held 3 s, so the restart lands while they run.
    stack = await startProcessStack({ address: server!.address, env: { BULKHEAD_TEST_RUN_DELAY_MS: '3000' } });
  });
  afterAll(async () => {
    await stack?.stop();
    await server?.stop();
    await rm(dir, { recursive: true, force: true });
  });

  it('completes every investigation after the server returns, with no sandbox left', async () => {
    await stack.spawn();
    const ids = [0, 1].map((i) => `incident-restart-${Date.now()}-${i}`);
    for (const id of ids) await stack.start(id);
    await until(async () => (await readRunLog(stack.runLog)).some((e) => e.event === 'start'), 90_000, 'an agent run');
    await server!.stop();
    await new Promise((r) => setTimeout(r, 3000));
    await serve();
    // Asked again after the restart: the old long polls died with the server.
    const reports = await Promise.all(ids.map(async (id) => Report.parse(await stack.client.workflow.getHandle(id).result())));
    for (const r of reports) {
      expect(r.status, JSON.stringify(r.reasons)).toBe('completed');
      for (const s of r.specialists) expect(s.sandbox.deleted).toBe(true);
    }
    expect(await stack.local.list()).toEqual([]);
  }, 240_000);
});
