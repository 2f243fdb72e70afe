/**
 * `bulkhead bench` log section: the log agent's evidence pass over 100k, 1M (and, with
 * --logs-10m, 10M) lines of JSONL and plain text, each in a fresh process (so its peak RSS is
 * its own) running the same esbuild bundle shape the sandbox runs. Each figure comes with a
 * plain line count of the same files in the same run (reading the bytes and counting line
 * breaks): the ratio says how far the agent is from the cost of reading the data at all.
 */
import { execFile } from 'node:child_process';
import { mkdtemp, rm, mkdir } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { fileURLToPath } from 'node:url';
import { writeBenchLogs, type BenchLogFormat } from './logs-gen';
import { round } from './stats';

const run = promisify(execFile);

export interface LogBenchRow {
  format: BenchLogFormat;
  lines: number;
  megabytes: number;
  /** The agent's evidence pass. */
  agentMs: number;
  linesPerSecond: number;
  /** CPU time of the pass (user + system): what the figure would be on an idle core. */
  agentCpuMs: number;
  linesPerCpuSecond: number;
  peakRssMb: number;
  /** Plain line count of the same bytes, same run. */
  countMs: number;
  countPeakRssMb: number;
  /** agentMs / countMs. */
  ratioToCount: number;
  /** What the agent found, so a fast wrong answer does not pass. */
  checks: { onset: string | null; suspectedChange: string | null; topError: string | null };
}

export interface LogBenchOptions {
  sizes?: number[];
  formats?: BenchLogFormat[];
  log?: (line: string) => void;
}

const END_MS = Date.parse('2026-03-15T15:00:00Z');
const WINDOW = { startMs: END_MS - 60 * 60_000, endMs: END_MS };

async function buildChild(dir: string): Promise<string> {
  const esbuild = await import('esbuild');
  const entry = path.join(path.dirname(fileURLToPath(import.meta.url)), 'logs-child.ts');
  const out = path.join(dir, 'logs-child.mjs');
  await esbuild.build({
    entryPoints: [entry],
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    outfile: out,
    minifyWhitespace: true,
    minifySyntax: true,
    banner: { js: "import { createRequire as __bhRequire } from 'node:module'; const require = __bhRequire(import.meta.url);" },
    logLevel: 'silent',
  });
  return out;
}

async function child(script: string, args: string[]): Promise<Record<string, unknown>> {
  const { stdout } = await run(process.execPath, [script, ...args], { maxBuffer: 1 << 20, timeout: 30 * 60_000 });
  return JSON.parse(stdout.trim().split('\n').pop()!);
}

export async function benchLogs(opts: LogBenchOptions = {}): Promise<LogBenchRow[]> {
  const sizes = opts.sizes ?? [100_000, 1_000_000];
  const formats = opts.formats ?? ['jsonl', 'text'];
  const log = opts.log ?? (() => undefined);
  const root = await mkdtemp(path.join(os.tmpdir(), 'bh-bench-logs-'));
  const rows: LogBenchRow[] = [];
  try {
    const script = await buildChild(root);
    for (const n of sizes) {
      for (const format of formats) {
        const dir = path.join(root, `${format}-${n}`);
        await mkdir(dir);
        log(`logs: writing ${n} ${format} lines`);
        const bytes = await writeBenchLogs(path.join(dir, format === 'jsonl' ? 'checkout.jsonl' : 'checkout.log'), n, format, END_MS);
        // Warm the page cache for both contenders alike, then count, agent, count again (median-free: take the lower count).
        await child(script, ['count', dir]);
        const c1 = await child(script, ['count', dir]);
        log(`logs: agent over ${n} ${format} lines`);
        const a = await child(script, ['agent', dir, String(WINDOW.startMs), String(WINDOW.endMs)]);
        const c2 = await child(script, ['count', dir]);
        const countMs = Math.min(Number(c1.ms), Number(c2.ms));
        if (Number(a.lines) !== n) throw new Error(`log bench: the agent read ${String(a.lines)} of ${n} ${format} lines`);
        rows.push({
          format,
          lines: n,
          megabytes: round(bytes / 1e6, 1),
          agentMs: round(Number(a.ms)),
          linesPerSecond: Math.round(n / (Number(a.ms) / 1000)),
          agentCpuMs: round(Number(a.cpuMs)),
          linesPerCpuSecond: Math.round(n / (Number(a.cpuMs) / 1000)),
          peakRssMb: round(Number(a.maxRssMb)),
          countMs: round(countMs),
          countPeakRssMb: round(Math.max(Number(c1.maxRssMb), Number(c2.maxRssMb))),
          ratioToCount: round(Number(a.ms) / countMs, 2),
          checks: {
            onset: (a.onset as string | null) ?? null,
            suspectedChange: (a.suspectedChange as string | null) ?? null,
            topError: (a.topError as string | null) ?? null,
          },
        });
        await rm(dir, { recursive: true, force: true });
      }
    }
  } finally {
    await rm(root, { recursive: true, force: true });
  }
  return rows;
}

/** The issue's log targets, judged on these rows (throughput on CPU time and wall time both shown). */
export function logTargets(rows: LogBenchRow[]): { metric: string; value: number; unit: string; target: string; met: boolean }[] {
  const out = [];
  for (const format of ['jsonl', 'text'] as const) {
    const rs = rows.filter((r) => r.format === format);
    if (!rs.length) continue;
    const slowest = Math.min(...rs.map((r) => r.linesPerSecond));
    const peak = Math.max(...rs.map((r) => r.peakRssMb));
    out.push({ metric: `log agent throughput, ${format} (slowest size, wall)`, value: slowest, unit: 'lines/s', target: '>= 500000', met: slowest >= 500_000 });
    out.push({ metric: `log agent peak RSS, ${format} (largest)`, value: peak, unit: 'MB', target: '< 300 MB', met: peak < 300 });
  }
  return out;
}

export function renderLogBench(rows: LogBenchRow[]): string {
  const head = 'format  lines       MB       agent ms   lines/s    lines/CPU-s  peak RSS    count ms  agent/count';
  const body = rows.map(
    (r) =>
      `${r.format.padEnd(7)} ${String(r.lines).padEnd(11)} ${String(r.megabytes).padEnd(8)} ${String(r.agentMs).padEnd(10)} ${String(r.linesPerSecond).padEnd(10)} ${String(r.linesPerCpuSecond).padEnd(12)} ${`${r.peakRssMb} MB`.padEnd(11)} ${String(r.countMs).padEnd(9)} ${r.ratioToCount}x`,
  );
  return [head, ...body].join('\n');
}
