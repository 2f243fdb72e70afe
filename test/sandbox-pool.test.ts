import type { Client } from '@temporalio/client';
import { describe, expect, it } from 'vitest';
import type { ExecResult, SandboxDriver, SandboxInfo, SandboxSpec } from '../src/sandbox/driver';
import { isPoolId, WarmPool } from '../src/sandbox/pool';
import { bulkheadLabels } from '../src/sandbox/labels';
import { reapOrphans } from '../src/sandbox/reap';

/** An in-memory driver that records what was done to which id. */
function fakeDriver() {
  const boxes = new Map<string, { spec: SandboxSpec; files: string[]; policies: number; createdAt: string }>();
  const calls: string[] = [];
  const driver: SandboxDriver = {
    kind: 'local',
    limitations: [],
    async create(spec) {
      calls.push(`create ${spec.id}`);
      if (!boxes.has(spec.id)) boxes.set(spec.id, { spec, files: [], policies: 0, createdAt: new Date(0).toISOString() });
      return spec.id;
    },
    async exec(id): Promise<ExecResult> {
      if (!boxes.has(id)) throw new Error(`no sandbox ${id}`);
      calls.push(`exec ${id}`);
      return { exitCode: 0, stdout: '', stderr: '', timedOut: false };
    },
    async upload(id, file, dest) {
      boxes.get(id)!.files.push(`${file}->${dest}`);
    },
    async applyPolicy(id) {
      boxes.get(id)!.policies++;
    },
    async delete(id) {
      calls.push(`delete ${id}`);
      boxes.delete(id);
    },
    async list(): Promise<SandboxInfo[]> {
      return [...boxes.values()].map((b) => ({ id: b.spec.id, owner: b.spec.owner, agent: b.spec.agent, createdAt: b.createdAt, alive: true, labels: b.spec.labels ?? {} }));
    },
    async denials() {
      return [];
    },
  };
  return { driver, boxes, calls };
}

const spec = (id: string): SandboxSpec => ({ id, agent: 'log_agent', owner: `wf-${id}`, readOnly: ['/data/logs'] });

/** idleMs: how long refills wait while sandboxes are in use (a long one keeps the pool from refilling). */
async function warmPool(size: number, idleMs = 0) {
  const f = fakeDriver();
  const pool = new WarmPool(f.driver, { size, idleMs });
  pool.start(async (id) => {
    await pool.upload(id, '/bundle/agent-1.mjs', 'agent.mjs');
    await pool.exec(id, ['node', 'agent.mjs', '--self-check']);
  });
  pool.prefill('log_agent', ['/data/logs']);
  await pool.whenFull(5_000);
  return { ...f, pool };
}

describe('WarmPool', () => {
  it('hands out an installed, deny-all sandbox under the workflow id and refills', async () => {
    const { pool, boxes, calls } = await warmPool(2);
    const stock = [...boxes.keys()];
    expect(stock).toHaveLength(2);
    expect(stock.every(isPoolId)).toBe(true);
    // Deny-all was re-applied after install.
    expect([...boxes.values()].every((b) => b.policies === 1)).toBe(true);

    calls.length = 0;
    expect(await pool.create(spec('bh-logs-0000abcd-0'))).toBe('bh-logs-0000abcd-0');
    expect(calls.filter((c) => c === 'create bh-logs-0000abcd-0')).toEqual([]);
    expect(pool.preinstalled('bh-logs-0000abcd-0', '/bundle/agent-1.mjs', 'agent.mjs')).toBe(true);
    // A rebuilt bundle is not the one installed: install again.
    expect(pool.preinstalled('bh-logs-0000abcd-0', '/bundle/agent-2.mjs', 'agent.mjs')).toBe(false);
    await pool.exec('bh-logs-0000abcd-0', ['true']);
    expect(calls).toContain(`exec ${stock[0]}`);
    // A retried create is the same claim.
    expect(await pool.create(spec('bh-logs-0000abcd-0'))).toBe('bh-logs-0000abcd-0');

    // Listed under the workflow's id and owner; idle stock is the worker's own and not listed.
    expect((await pool.list()).map((s) => [s.id, s.owner])).toEqual([['bh-logs-0000abcd-0', 'wf-bh-logs-0000abcd-0']]);

    await pool.delete('bh-logs-0000abcd-0');
    expect(boxes.has(stock[0]!)).toBe(false);
    expect(await pool.list()).toEqual([]);
    await pool.delete('bh-logs-0000abcd-0');
    await pool.whenFull(5_000);
    expect(pool.counts()[0]!.ready).toBe(2);
    await pool.close();
    expect(boxes.size).toBe(0);
  });

  it('creates cold on a miss (other mounts, or empty), and a retried cold create stays cold', async () => {
    const { pool, calls } = await warmPool(1, 60_000);
    await pool.create({ ...spec('bh-logs-00000001-0'), readOnly: ['/other/logs'] });
    expect(calls).toContain('create bh-logs-00000001-0');
    await pool.create(spec('bh-logs-00000002-0'));
    await pool.create(spec('bh-logs-00000003-0'));
    expect(calls).toContain('create bh-logs-00000003-0');
    calls.length = 0;
    await pool.create({ ...spec('bh-logs-00000001-0'), readOnly: ['/other/logs'] });
    expect(calls).toEqual(['create bh-logs-00000001-0']);
    await pool.close();
  });

  it('is never reaped as an orphan while its sandboxes live, even by a reaper in another process', async () => {
    const { pool, driver, boxes } = await warmPool(2);
    await driver.create({ id: 'bh-l-0000deadbeef-0', agent: 'log_agent', owner: 'gone', readOnly: [], labels: bulkheadLabels('stack-a', 'gone', 'log_agent') });
    // Not this stack's, though named like ours: never touched.
    await driver.create({ id: 'bh-l-00000000beef-0', agent: 'log_agent', owner: 'gone', readOnly: [], labels: bulkheadLabels('stack-b', 'gone', 'log_agent') });
    // No workflow is running: only this stack's workflow sandbox is an orphan.
    const client = { workflow: { list: async function* () {} } } as unknown as Client;
    const r = await reapOrphans(driver, client, 0, 'stack-a');
    expect(r.deleted).toEqual(['bh-l-0000deadbeef-0']);
    expect(r.kept).toHaveLength(3);
    expect(boxes.size).toBe(3);
    await pool.close();
  });
});
