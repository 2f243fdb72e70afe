/**
 * Template-mining accuracy on Bulkhead's own samples (test/fixtures/log-samples.ts): each format
 * is written to a file, read back by the log agent's reader (timestamps, folding) and mined.
 * `npx tsx scripts/log-accuracy.ts [linesPerFormat]`. Prints grouping accuracy per format.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { TemplateMiner, templateText } from '../src/agents/logs/miner';
import { emptyStats, readLogFile } from '../src/agents/logs/read';
import { miningMessage } from '../src/agents/logs/template';
import { groupingAccuracy } from '../src/bench/log-accuracy';
import { groupingKey, signatureOf } from '../src/agents/logs/mask';
import { FORMATS, sampleLines } from '../test/fixtures/log-samples';

export async function measureFormats(n: number, verbose = false): Promise<{ name: string; accuracy: number; before: number; lines: number; templates: number; truth: number }[]> {
  const dir = mkdtempSync(join(tmpdir(), 'bh-logacc-'));
  const rows = [];
  try {
    for (const [fi, f] of FORMATS.entries()) {
      const lines = sampleLines(f, fi, n, 1000 + fi);
      const file = join(dir, `f${fi}.log`);
      writeFileSync(file, lines.map((l) => l.text).join('\n') + '\n');
      const miner = new TemplateMiner();
      const pred: number[] = [];
      // The previous grouping (masked signature, key=value pairs dropped), for comparison.
      const oldKeys = new Map<string, number>();
      const old: number[] = [];
      const stats = emptyStats();
      for await (const rec of readLogFile(file, { startMs: Date.parse('2026-03-15T00:00:00Z'), endMs: Date.parse('2026-03-16T00:00:00Z') }, stats)) {
        pred.push(miner.add(miningMessage(rec)).id);
        const k = groupingKey(signatureOf(rec.line, null));
        if (!oldKeys.has(k)) oldKeys.set(k, oldKeys.size);
        old.push(oldKeys.get(k)!);
      }
      if (pred.length !== lines.length) throw new Error(`${f.name}: read ${pred.length} records of ${lines.length} (unreadable ${stats.unreadable}, malformed ${stats.malformed})`);
      const truth = lines.map((l) => l.truth);
      miner.finalize();
      const accuracy = groupingAccuracy(truth, pred.map((id) => miner.canonical(id)));
      rows.push({ name: f.name, accuracy, before: groupingAccuracy(truth, old), lines: lines.length, templates: miner.live().length, truth: new Set(truth).size });
      if (verbose && accuracy < 1) {
        for (const t of miner.live()) console.log(`   [${t.id}] ${t.count}x ${templateText(t)}`);
      }
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  return rows;
}

if (process.argv[1]?.endsWith('log-accuracy.ts')) {
  const n = Number(process.argv[2] ?? 2000);
  const rows = await measureFormats(n, process.argv.includes('--verbose'));
  const pct = (x: number) => `${(x * 100).toFixed(1)}%`.padStart(6);
  console.log('miner   before  templates      format');
  for (const r of rows) console.log(`${pct(r.accuracy)}  ${pct(r.before)}  ${String(r.templates).padStart(3)} / ${String(r.truth).padStart(3)} true  ${r.name}`);
  const mean = (f: (r: (typeof rows)[number]) => number) => rows.reduce((a, r) => a + f(r), 0) / rows.length;
  console.log(`mean grouping accuracy ${pct(mean((r) => r.accuracy)).trim()} (previous signatures: ${pct(mean((r) => r.before)).trim()}) over ${rows.length} formats, ${n} lines each`);
}
