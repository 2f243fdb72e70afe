import { describe, expect, it } from 'vitest';
import { messageStart } from '../src/agents/logs/header';
import { KeywordSet } from '../src/agents/logs/keywords';
import { TemplateMiner, templateText } from '../src/agents/logs/miner';
import { miningMessage } from '../src/agents/logs/template';
import { mineTokens } from '../src/agents/logs/tokens';
import { groupingAccuracy } from '../src/bench/log-accuracy';
import { measureFormats } from '../scripts/log-accuracy';

const mine = (lines: string[]) => {
  const m = new TemplateMiner();
  const ids = lines.map((l) => m.add(miningMessage({ ts: 0, labels: {}, line: l })).id);
  m.finalize();
  return { m, ids: ids.map((i) => m.canonical(i)) };
};

describe('header removal', () => {
  it.each([
    ['2026-03-15 14:30:00,123 ERROR [http-nio-8080-exec-1] c.s.PaymentProcessor - payment failed', 'payment failed'],
    ['2026-03-15 14:30:00.123 ERROR 1 --- [nio-8080-exec-3] c.e.shop.OrderService : Order 7 failed', 'Order 7 failed'],
    ['Mar 15 14:30:00 bastion-2 sshd[24200]: Invalid user admin from 10.0.0.1 port 22', 'Invalid user admin from 10.0.0.1 port 22'],
    ['260315 143000 148 INFO store.ChunkServer$Writer: Writer 1 for chunk blk_1 finished', 'Writer 1 for chunk blk_1 finished'],
    ['03-15 14:30:00.811  1702  2395 D WindowManager: relayout done', 'relayout done'],
    ['I0315 14:30:00.123456       1 controller.go:114] error syncing "a/b"', 'error syncing "a/b"'],
    ['2026/03/15 14:30:00 [error] 123#0: *5678 connect() failed', 'connect() failed'],
    ['[2026-03-15T14:30:00,123][WARN ][o.e.c.r.a.DiskThresholdMonitor] [es-master-0] high disk watermark exceeded', 'high disk watermark exceeded'],
    ['2026-03-15 14:30:00,123 - app.worker - ERROR - Task 7 failed', 'Task 7 failed'],
    ['ERROR [main] c.s.checkout.payment.PaymentProcessor - java.lang.NullPointerException in PaymentProcessor.java:142', 'java.lang.NullPointerException in PaymentProcessor.java:142'],
  ])('%s', (line, msg) => expect(miningMessage({ ts: Date.parse('2026-03-15T16:00:00Z'), labels: {}, line })).toBe(msg));

  it('stays within the head of a crafted line', () => {
    const line = '['.repeat(1 << 20);
    const t0 = performance.now();
    messageStart(line, 0);
    expect(performance.now() - t0).toBeLessThan(1000);
  });
});

describe('value tokens', () => {
  it('masks values of every kind and keeps what identifies a template', () => {
    expect(mineTokens('Deleting blk_-6952295868487656571 rdd_2_0 task_200811092030_0001_m_000590_0 at /data/x/1 from 10.1.2.3:50010 in 250ms size 64MB uuid 123e4567-e89b-12d3-a456-426614174000 0x7ffe12ab -695').join(' ')).toBe(
      'Deleting <*> <*> <*> at <*> from <*> in <*> size <*> uuid <*> <*> <*>',
    );
    expect(mineTokens('NullPointerException in PaymentProcessor.java:142 (db/pool.py:88) psycopg2.OperationalError: ORA-00942 HikariPool-1 HTTP 503').join(' ')).toBe(
      'NullPointerException in PaymentProcessor.java:142 (db/pool.py:88) psycopg2.OperationalError: ORA-00942 HikariPool-1 HTTP 503',
    );
    // A digit-free value stays until it varies (mining generalizes it then); the key always stays.
    expect(mineTokens('pool stats total=50, active=48 user=bob').join(' ')).toBe('pool stats total=<*>, active=<*> user=bob');
    const { m, ids } = mine(['login ok user=bob', 'login ok user=alice', 'login ok user=carol']);
    expect(new Set(ids).size).toBe(1);
    expect(templateText(m.templates[ids[0]!]!)).toBe('login ok user=<*>');
  });

  it('digit-free values that vary at one position become variables (three or more variants)', () => {
    const users = ['admin', 'oracle', 'guest', 'deploy', 'admin'];
    const { m, ids } = mine(users.map((u) => `Invalid user ${u} from 10.0.0.${u.length} port 22`));
    expect(new Set(ids).size).toBe(1);
    expect(templateText(m.templates[ids[0]!]!)).toBe('Invalid user <*> from <*> port <*>');
  });

  it('two messages that differ by one word stay two templates', () => {
    const svcs = ['billing', 'catalog', 'search'];
    const { ids } = mine(svcs.flatMap((s) => [`upstream ${s} refused the connection`, `upstream ${s} reset the connection`]));
    // The service (three variants) is a value; refused/reset (two) are two messages.
    expect(new Set([ids[0], ids[2], ids[4]]).size).toBe(1);
    expect(new Set([ids[1], ids[3], ids[5]]).size).toBe(1);
    expect(ids[0]).not.toBe(ids[1]);
  });

  it('never merges different errors behind a long common prefix', () => {
    const prefix = 'request to the payment authorization service failed after all retries were exhausted with the final error';
    const { ids } = mine([
      `${prefix}: "remaining connection slots are reserved for non-replication superuser connections"`,
      `${prefix}: "remaining connection slots are reserved for non-replication superuser connections"`,
      `${prefix}: "password authentication failed for user payments"`,
    ]);
    expect(ids[0]).toBe(ids[1]);
    expect(ids[0]).not.toBe(ids[2]);
  });
});

describe('keyword matcher', () => {
  it('finds words case-insensitively, honours word boundaries, and is linear', () => {
    const k = new KeywordSet(['deploy', ' roll', ' lag ', 'timed out']);
    expect(k.test('Deployment started')).toBe(true);
    expect(k.test('OrderController ok')).toBe(false);
    expect(k.test('rollout done')).toBe(true);
    expect(k.test('feature flag on')).toBe(false);
    expect(k.test('replica lag high')).toBe(true);
    expect(k.test('request TIMED OUT')).toBe(true);
    const t0 = performance.now();
    expect(k.test('dep'.repeat(1 << 19))).toBe(false);
    expect(performance.now() - t0).toBeLessThan(2000);
  });
});

describe('grouping accuracy harness', () => {
  it('scores exact groups only', () => {
    expect(groupingAccuracy([1, 1, 2, 2], [5, 5, 6, 6])).toBe(1);
    expect(groupingAccuracy([1, 1, 2, 2], [5, 5, 5, 5])).toBe(0);
    expect(groupingAccuracy([1, 1, 2, 3], [5, 5, 6, 6])).toBe(0.5);
  });

  it('mines our own samples in 16 formats with high grouping accuracy', { timeout: 300_000 }, async () => {
    const rows = await measureFormats(400);
    for (const r of rows) expect(r.accuracy, r.name).toBeGreaterThanOrEqual(0.85);
    const mean = rows.reduce((a, r) => a + r.accuracy, 0) / rows.length;
    expect(mean).toBeGreaterThanOrEqual(0.95);
  });
});
