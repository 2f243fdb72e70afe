import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { gatherLogs } from '../src/agents/logs/index';
import { parseRecord, readLogDir, emptyStats } from '../src/agents/logs/read';
import { leadingStamp } from '../src/agents/logs/timestamps';
import type { AgentInput } from '../src/schemas/agent';

const REF = Date.parse('2026-03-15T16:00:00Z');
const utc = { timeZone: 'UTC', referenceMs: REF };

describe('leading timestamps', () => {
  it.each([
    ['2026-03-15T14:30:00.123Z INFO x', '2026-03-15T14:30:00.123Z'],
    ['2026-03-15T14:30:00+02:00 x', '2026-03-15T12:30:00.000Z'],
    ['2026-03-15T14:30:00.123456789-0500 x', '2026-03-15T19:30:00.123Z'],
    ['2026-03-15 14:30:00,123 ERROR [main] c.e.Foo - x', '2026-03-15T14:30:00.123Z'],
    ['2026-03-15 14:30:00 +0200 x', '2026-03-15T12:30:00.000Z'],
    ['2026-03-15 14:30:00 UTC x', '2026-03-15T14:30:00.000Z'],
    ['2026/03/15 14:30:00 [error] 123#0: x', '2026-03-15T14:30:00.000Z'],
    ['[2026-03-15 14:30:00.5] x', '2026-03-15T14:30:00.500Z'],
    ['<34>1 2026-03-15T14:30:00.003Z host app - - - x', '2026-03-15T14:30:00.003Z'],
    ['Mar 15 14:30:00 web-1 sshd[123]: x', '2026-03-15T14:30:00.000Z'],
    ['Mar  5 04:03:02 web-1 cron[1]: x', '2026-03-05T04:03:02.000Z'],
    ['I0315 14:30:00.123456   12345 controller.go:123] x', '2026-03-15T14:30:00.123Z'],
    ['E0315 14:30:01.000001 1 x', '2026-03-15T14:30:01.000Z'],
    ['03-15 14:30:00.811  1702  2395 D WindowManager: x', '2026-03-15T14:30:00.811Z'],
    ['1773585000 x', '2026-03-15T14:30:00.000Z'],
    ['1773585000.25 x', '2026-03-15T14:30:00.250Z'],
    ['1773585000123 x', '2026-03-15T14:30:00.123Z'],
    ['14:30:00.123 [worker] x', '2026-03-15T14:30:00.123Z'],
    ['260315 143000 148 INFO dfs.DataNode: x', '2026-03-15T14:30:00.000Z'],
    ['26/03/15 14:30:00 INFO executor.Executor: x', '2026-03-15T14:30:00.000Z'],
    ['15-Mar-2026 14:30:00.123 SEVERE [main] x', '2026-03-15T14:30:00.123Z'],
    ['[Sun Mar 15 14:30:00.123456 2026] [core:error] x', '2026-03-15T14:30:00.123Z'],
    ['Sun Mar 15 14:30:00 2026 x', '2026-03-15T14:30:00.000Z'],
    ['20260315-14:30:00:123|Step|x', '2026-03-15T14:30:00.123Z'],
    ['2026-03-15-14.30.00.123456 R02 x', '2026-03-15T14:30:00.123Z'],
  ])('%s', (line, want) => {
    const st = leadingStamp(line, utc);
    expect(st, line).not.toBeNull();
    expect(new Date(st!.ts).toISOString()).toBe(want);
  });

  it.each(['hello world', 'ERROR something', '12 items failed', '2026 was a year', '123456789 x', '99:99:99 x', '- - - x'])(
    'no stamp in %j',
    (line) => expect(leadingStamp(line, utc)).toBeNull(),
  );

  it('zone-less times follow the configured zone, DST included', () => {
    const tz = { timeZone: 'Europe/Paris', referenceMs: REF };
    expect(new Date(leadingStamp('2026-03-15 14:30:00 x', tz)!.ts).toISOString()).toBe('2026-03-15T13:30:00.000Z');
    expect(new Date(leadingStamp('2026-07-15 14:30:00 x', tz)!.ts).toISOString()).toBe('2026-07-15T12:30:00.000Z');
    // An explicit offset wins over the zone.
    expect(new Date(leadingStamp('2026-03-15T14:30:00Z x', tz)!.ts).toISOString()).toBe('2026-03-15T14:30:00.000Z');
  });

  it('syslog stamps read in January belong to the previous December', () => {
    const jan = { timeZone: 'UTC', referenceMs: Date.parse('2027-01-01T00:10:00Z') };
    expect(new Date(leadingStamp('Dec 31 23:59:00 h p: x', jan)!.ts).toISOString()).toBe('2026-12-31T23:59:00.000Z');
  });

  it('a crafted 1 MB line costs linear time', () => {
    const lines = ['2026-03-15 '.repeat(100_000), '1'.repeat(1 << 20), 'Mar '.repeat(250_000), '<' + '1'.repeat(1 << 20), '['.repeat(1 << 20)];
    const t0 = performance.now();
    for (const l of lines) leadingStamp(l, utc);
    expect(performance.now() - t0).toBeLessThan(2000);
  });
});

describe('JSON records in exporters spellings', () => {
  it.each([
    ['{"ts":"2026-03-15T14:30:00Z","labels":{"app":"a","level":"error"},"line":"boom"}', 'boom', 'error'],
    ['{"@timestamp":"2026-03-15T14:30:00.000Z","log":{"level":"ERROR"},"message":"boom","service":{"name":"a"}}', 'boom', 'ERROR'],
    ['{"log":"boom\\n","stream":"stderr","time":"2026-03-15T14:30:00.000000001Z"}', 'boom\n', undefined],
    ['{"timeUnixNano":"1773585000000000000","severityText":"ERROR","body":{"stringValue":"boom"}}', 'boom', 'ERROR'],
    ['{"timestamp":"2026-03-15T14:30:00Z","severity":"ERROR","textPayload":"boom"}', 'boom', 'ERROR'],
    ['{"time":1773585000000,"level":50,"msg":"boom","pid":1}', 'boom', 'error'],
    ['{"ts":1773585000.0,"level":"error","msg":"boom","error":"dial tcp: refused"}', 'boom: dial tcp: refused', 'error'],
    ['{"@t":"2026-03-15T14:30:00Z","@mt":"boom {User}","@l":"Error"}', 'boom {User}', 'Error'],
    ['{"version":"1.1","host":"h","short_message":"boom","timestamp":1773585000.5,"level":3}', 'boom', 'error'],
    ['{"__REALTIME_TIMESTAMP":"1773585000000000","MESSAGE":"boom","PRIORITY":"3"}', 'boom', 'error'],
    ['{"t":{"$date":"2026-03-15T14:30:00.000+00:00"},"s":"E","c":"NETWORK","msg":"boom"}', 'boom', 'error'],
    ['{"instant":{"epochSecond":1773585000,"nanoOfSecond":0},"level":"ERROR","message":"boom"}', 'boom', 'ERROR'],
    ['{"asctime":"2026-03-15 14:30:00,000","levelname":"ERROR","message":"boom"}', 'boom', 'ERROR'],
  ])('%s', (text, line, level) => {
    const r = parseRecord(text, utc);
    expect(r).not.toBeNull();
    expect(Math.floor(r!.ts / 1000) * 1000).toBe(Date.parse('2026-03-15T14:30:00Z'));
    expect(r!.line).toBe(line);
    if (level !== undefined) expect(r!.labels.level).toBe(level);
  });
});

function dir(files: Record<string, string | Buffer>): string {
  const d = mkdtempSync(join(tmpdir(), 'bh-logfmt-'));
  for (const [name, body] of Object.entries(files)) writeFileSync(join(d, name), body);
  return d;
}

const javaTrace = [
  '2026-03-15 14:31:00,001 ERROR [http-nio-8080-exec-1] c.s.PaymentProcessor - payment failed',
  'java.lang.NullPointerException: Cannot invoke "Card.token()" because "card" is null',
  '\tat com.shop.PaymentProcessor.charge(PaymentProcessor.java:142)',
  '\tat com.shop.CheckoutController.pay(CheckoutController.java:88)',
  'Caused by: java.io.IOException: reset',
  '\t... 12 more',
].join('\n');

describe('reading a log folder as it really is', () => {
  it('plain text, gzip, JSONL; stack traces folded; unreadable lines counted', async () => {
    const d = dir({
      'app.log': `${javaTrace}\n2026-03-15 14:32:00,000 INFO [main] c.s.App - ok\nthis line has no time\n`,
      'app.log.1.gz': gzipSync('Mar 15 14:29:00 web-1 sshd[42]: Accepted publickey for deploy from 10.0.0.1 port 22 ssh2\n'),
      'events.jsonl': '{"ts":"2026-03-15T14:28:00Z","labels":{"app":"deployer"},"line":"deploy started: checkout-v2"}\n{"broken": \n',
      'klog.log': 'I0315 14:33:00.000001       1 controller.go:42] synced\nTraceback (most recent call last):\n',
    });
    const stats = emptyStats();
    const recs = [];
    for await (const r of readLogDir(d, { startMs: Date.parse('2026-03-15T14:00:00Z'), endMs: REF }, stats)) recs.push(r);
    expect(stats.files).toBe(4);
    const trace = recs.find((r) => r.line.startsWith('2026-03-15 14:31:00'))!;
    expect(trace.line.split('\n')).toHaveLength(6);
    expect(stats.folded).toBe(6);
    expect(recs.some((r) => r.line.includes('Accepted publickey') && r.ts === Date.parse('2026-03-15T14:29:00Z'))).toBe(true);
    expect(recs.some((r) => r.line === 'deploy started: checkout-v2')).toBe(true);
    expect(stats.unreadable).toBe(1);
    expect(stats.malformed).toBe(1);
    expect(recs).toHaveLength(5);
  });

  it('the log agent reads plain-text and gzip logs from logDirs and reports what it skipped', async () => {
    const lines: string[] = [];
    const t0 = Date.parse('2026-03-15T14:00:00Z');
    for (let s = 0; s < 3600; s += 10) {
      const t = new Date(t0 + s * 1000).toISOString().replace('T', ' ').replace('Z', '').replace('.', ',');
      lines.push(`${t} INFO [main] c.s.Checkout - order placed in 12 ms`);
      if (s >= 1800) for (let k = 0; k < 5; k++) lines.push(`${t} ERROR [pool-${k}] c.s.Db - could not acquire connection after 30000 ms from pool db-${k}`);
    }
    const d = dir({ 'checkout.log.gz': gzipSync(lines.join('\n') + '\ngarbage without time\n') });
    const input: AgentInput = {
      agent: 'log_agent',
      task: 't',
      incident: {
        id: 'x',
        title: 'x',
        service: 'checkout',
        severity: 'SEV2',
        report: 'x',
        window: { start: '2026-03-15T14:00:00Z', end: '2026-03-15T15:00:00Z' },
        now: '2026-03-15T15:00:00Z',
      },
      sources: { logDirs: [d] },
      model: null,
    };
    const g = await gatherLogs(input, () => {});
    expect(g.evidence.onset).toBe('2026-03-15T14:30:00Z');
    expect(g.evidence.topErrors[0]!.signature).toContain('could not acquire connection');
    expect(g.evidence.topErrors[0]!.count).toBe(900);
    expect(g.warnings.join('\n')).toMatch(/1 plain-text log lines? skipped/);
  });

  it('zone-less plain-text times are read in sources.logTimezone', async () => {
    const d = dir({ 'a.log': '2026-03-15 15:30:00 ERROR boom\n' });
    const recs = [];
    for await (const r of readLogDir(d, { startMs: 0, endMs: REF }, emptyStats(), { timeZone: 'Europe/Paris' })) recs.push(r);
    expect(recs[0]!.ts).toBe(Date.parse('2026-03-15T14:30:00Z'));
  });
});
