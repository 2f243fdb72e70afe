import { describe, expect, it } from 'vitest';
import { gatherFromSources } from '../src/agents/logs/gather';
import { fileSource } from '../src/agents/logs/source';
import { generate, writeLogs, type Line } from './fixtures/logs-gen';

const BASE = Date.parse('2026-03-15T14:00:00Z');
const window = { startMs: BASE, endMs: BASE + 60 * 60_000 };
const iso = (ms: number) => new Date(ms).toISOString();
const run = (lines: Line[]) => gatherFromSources([fileSource(writeLogs(lines))], window, () => {}, 'orders-api');
// Logs from an hour before the window (the agent reads that far back for its baseline).
const hourBefore = (opts: Partial<Parameters<typeof generate>[0]> = {}) =>
  generate({ baseMs: BASE - 60 * 60_000, minutes: 120, service: 'orders-api', bursts: [], changes: [], ...opts });

describe('sparse, short and quiet data', () => {
  it('a handful of warnings below any burst rule: the first of them is the onset, to the millisecond', async () => {
    const first = BASE + 37 * 60_000 + 12_345;
    const extra: Line[] = [0, 2, 5, 9, 14].map((m, i) => ({
      ts: iso(first + m * 60_000 + (i ? 777 : 0)),
      labels: { service: 'orders-api', level: 'warn' },
      line: `replication slot "orders_cdc" lag ${1200 + i * 300} MB exceeds max_slot_wal_keep_size`,
    }));
    const g = await run(hourBefore({ extra }));
    expect(g.evidence.onset).toBe(iso(first).replace('.345Z', '.345Z'));
    expect(g.digest).toMatch(/never seen before/);
  });

  it('logs that begin two minutes before the fault: onset found, and it says the baseline is not clean', async () => {
    const lines: Line[] = [];
    const start = BASE + 28 * 60_000;
    for (let s = 0; s < 32 * 60; s += 3) {
      lines.push({ ts: iso(start + s * 1000), labels: { service: 'orders-api', level: 'info' }, line: `GET /orders/${s} 200 ${20 + (s % 50)}ms` });
      // A steady background error, there from the first minute: noise, never ranked first.
      if (s % 60 === 0) lines.push({ ts: iso(start + s * 1000 + 500), labels: { service: 'orders-api', level: 'error' }, line: `cache miss for key product:${s}` });
      if (s >= 120) lines.push({ ts: iso(start + s * 1000 + 100), labels: { service: 'orders-api', level: 'error' }, line: `could not obtain connection from pool orders-db after 5000 ms (waiting=${s % 40})` });
    }
    const g = await run(lines);
    expect(g.evidence.onset).toBe(iso(start + 120_000 + 100));
    expect(g.digest).toMatch(/no clean baseline/);
    expect(g.evidence.topErrors[0]!.signature).toContain('could not obtain connection');
  });

  it('decisive evidence in INFO text (managed-database events, slow-query summaries) gives the onset and reaches the digest', async () => {
    const t0 = BASE + 35 * 60_000 + 4_000;
    const extra: Line[] = [
      { ts: iso(t0), labels: { service: 'orders-api', level: 'info' }, line: 'RDS-EVENT-0049: Multi-AZ instance failover started for DB instance orders-db' },
      { ts: iso(t0 + 90_000), labels: { service: 'orders-api', level: 'info' }, line: 'RDS-EVENT-0049: Multi-AZ instance failover completed for DB instance orders-db' },
      ...Array.from({ length: 20 }, (_, i) => ({
        ts: iso(t0 + 30_000 + i * 60_000),
        labels: { service: 'orders-api', level: 'info' },
        line: `slow query summary: ${40 + i} statements over 2000 ms, top wait event IO:DataFileRead on orders`,
      })),
    ];
    const g = await run(generate({ baseMs: BASE - 60 * 60_000, minutes: 120, service: 'orders-api', bursts: [], changes: [], extra }).filter((l) => l.labels.level !== 'warn'));
    expect(g.evidence.onset).not.toBeNull();
    expect(Math.abs(Date.parse(g.evidence.onset!) - (t0 + 30_000))).toBeLessThanOrEqual(60_000);
    expect(g.digest).toMatch(/INFO-level evidence/);
    expect(g.digest).toMatch(/slow query summary/);
  });

  it('a healthy window yields no onset and says so plainly', async () => {
    const g = await run(hourBefore());
    expect(g.evidence.onset).toBeNull();
    expect(g.evidence.suspectedChange).toBeNull();
    expect(g.digest).toMatch(/No error onset in these logs: the window looks healthy/);
  });
});
