import { writeFileSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { gatherFromSources } from '../src/agents/logs/gather';
import { fileSource } from '../src/agents/logs/source';

const MB = 1 << 20;
const rep = (s: string) => s.repeat(Math.ceil(MB / s.length)).slice(0, MB);

/** Crafted lines that make backtracking regexes quadratic: long runs that almost match. */
const CRAFTED = [
  rep('a-'),
  rep('a'),
  rep('1'),
  rep('1.'),
  rep(' '),
  rep('['),
  rep('a='),
  rep('"a'),
  rep("'"),
  rep('x@'),
  rep('v1.'),
  rep('deploy a-'),
  rep('config map '),
  rep('flag x '),
  rep('\tat '),
  rep('0x'),
  rep('ab12-'),
  rep('/a'),
  rep('level=error '),
  rep('HikariPool-1 '),
  rep('Release "'),
];

describe('adversarial 1 MB lines cost linear time', () => {
  it('in every format the reader accepts, through the whole evidence pass', { timeout: 300_000 }, async () => {
    const dir = mkdtempSync(join(tmpdir(), 'bh-redos-'));
    const t = '2026-03-15T14:30:00Z';
    const lines: string[] = [];
    for (const c of CRAFTED) {
      lines.push(`2026-03-15 14:30:00,000 ERROR [main] c.e.App - ${c}`);
      lines.push(`${t} INFO ${c}`);
      lines.push(`Mar 15 14:30:00 host app[1]: deploy ${c}`);
      lines.push(JSON.stringify({ ts: t, labels: { app: 'deployer', level: 'info' }, line: `deploy started: ${c}` }));
      lines.push(JSON.stringify({ ts: t, labels: { app: 'x', level: 'error' }, line: c }));
    }
    writeFileSync(join(dir, 'crafted.log'), lines.join('\n') + '\n');
    const window = { startMs: Date.parse('2026-03-15T14:00:00Z'), endMs: Date.parse('2026-03-15T15:00:00Z') };
    const t0 = performance.now();
    const g = await gatherFromSources([fileSource(dir)], window, () => {});
    const perLineMs = (performance.now() - t0) / lines.length;
    // 105 MB of crafted text: linear work is well under a second a line even on a loaded machine.
    expect(perLineMs).toBeLessThan(1500);
    expect(g.evidence.topErrors.length).toBeGreaterThan(0);
    // And for the model's search tool over the same lines.
    const t1 = performance.now();
    await g.tools.find((x) => x.name === 'search_logs')!.run({ contains: 'zzz' });
    expect(performance.now() - t1).toBeLessThan(60_000);
  });
});
