import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { BenchResults } from '../src/bench/results';
import { REPO_ROOT } from '../src/stack/tools';

const run = promisify(execFile);

/** Every number under `value`, by path, skipping the verification counters. */
function figures(value: unknown, at = ''): [string, number][] {
  if (typeof value === 'number') return [[at, value]];
  if (Array.isArray(value)) return value.flatMap((v, i) => figures(v, `${at}[${i}]`));
  if (value && typeof value === 'object') {
    return Object.entries(value).flatMap(([k, v]) => (k === 'checks' ? [] : figures(v, at ? `${at}.${k}` : k)));
  }
  return [];
}

// Shape and sanity only: performance is measured by `bulkhead bench`, never asserted in a test.
describe('bulkhead bench --quick', () => {
  it('prints the table and writes results.json with every figure a finite positive number', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'bh-bench-test-'));
    try {
      const out = path.join(dir, 'results.json');
      const { stdout } = await run(process.execPath, [path.join(REPO_ROOT, 'bin/bulkhead.mjs'), 'bench', '--quick', '--out', out], {
        env: { PATH: process.env.PATH!, HOME: process.env.HOME! },
        maxBuffer: 16 << 20,
      });
      expect(stdout).toMatch(/^metric\s+value\s+target\s+met\?/m);
      const results = BenchResults.parse(JSON.parse(await readFile(out, 'utf8')));
      expect(results.quick).toBe(true);

      const measured = figures({ lifecycle: results.lifecycle, endToEnd: results.endToEnd, throughput: results.throughput });
      expect(measured.length).toBeGreaterThan(30);
      for (const [at, v] of measured) expect(Number.isFinite(v) && v > 0, `${at} = ${v}`).toBe(true);
      for (const t of results.targets) expect(Number.isFinite(t.value), t.metric).toBe(true);
      // Seven sandbox/Temporal targets, then throughput and peak memory per log format.
      const metrics = results.targets.map((t) => t.metric);
      expect(metrics).toHaveLength(11);
      for (const format of ['jsonl', 'text']) {
        expect(metrics).toContain(`log agent throughput, ${format} (slowest size, wall)`);
        expect(metrics).toContain(`log agent peak RSS, ${format} (largest)`);
      }

      // The warm path skips install (done ahead); the cold path has every step.
      expect(Object.keys(results.lifecycle.cold.steps).sort()).toEqual(['create', 'delete', 'exec', 'install', 'policy']);
      expect(Object.keys(results.lifecycle.pool.steps).sort()).toEqual(['create', 'delete', 'exec', 'policy']);
      for (const row of [...results.throughput.cold, ...results.throughput.pool]) {
        expect(row.checks).toEqual({ completed: row.concurrency, sandboxesLeft: 0 });
      }
      expect(results.throughput.cold.map((r) => r.concurrency)).toEqual(results.settings.concurrency);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  }, 600_000);
});
