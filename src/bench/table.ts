import type { BenchResults } from './results';
import { STEPS } from './lifecycle';

type Row = [metric: string, value: string, target: string, met: string];

const ms = (x: number) => (x >= 10_000 ? `${(x / 1000).toFixed(1)} s` : `${Math.round(x)} ms`);
const pp = (s: { p50: number; p95: number }) => `${ms(s.p50)} / ${ms(s.p95)}`;
const x = (v: number) => `${v.toFixed(2)}x`;

/** The benchmark as a plain-text table: metric, value, target, met?. */
export function renderTable(r: BenchResults): string {
  const t = new Map(r.targets.map((g) => [g.metric, g]));
  const judged = (metric: string): [string, string] => {
    const g = t.get(metric);
    return g ? [g.target, g.met ? 'yes' : 'NO'] : ['', ''];
  };
  const L = r.lifecycle;
  const E = r.endToEnd;
  const rows: Row[] = [];
  const section = (title: string) => rows.push([title, '', '', '']);

  section(`Sandbox lifecycle, local driver, ${L.agent}, ${L.cold.total.n} runs (p50 / p95)`);
  for (const s of STEPS) {
    const c = L.cold.steps[s];
    const p = L.pool.steps[s];
    rows.push([`  ${s}`, `cold ${c ? pp(c) : '-'}   pool ${p ? pp(p) : 'done ahead'}`, '', '']);
  }
  rows.push(['  total, cold', pp(L.cold.total), ...judged('sandbox lifecycle p50, local driver, cold')]);
  rows.push(['  total, warm pool (create = claim)', pp(L.pool.total), ...judged('sandbox lifecycle p50, local driver, warm pool')]);
  rows.push(['  warm pool gain (cold p50 / pool p50)', x(L.poolGain), '', '']);
  if (L.cold.sandboxOnly) rows.push(['  sandbox only, cold (create+policy+exec+delete)', pp(L.cold.sandboxOnly), ...judged('sandbox lifecycle p50 without install, local driver, cold')]);
  if (L.bareBwrap) {
    rows.push(['  bubblewrap alone (/bin/true), same run', pp(L.bareBwrap), '', '']);
    if (L.cold.sandboxOnly) rows.push(['  sandbox only / bubblewrap alone (p50)', x(L.cold.sandboxOnly.p50 / L.bareBwrap.p50), '', '']);
  }

  section(`One investigation, 3 specialists, model ${r.settings.modelDelayMs} ms, ${E.temporal.n} rounds (p50 / p95; ratios: median of per-round ratios)`);
  rows.push(['  no Temporal, sequential (seed dispatch)', pp(E.baselineSequential), '', '']);
  rows.push(['  no Temporal, parallel (Promise.all)', pp(E.baselineParallel), '', '']);
  rows.push(['  Temporal (1 brain turn, 3 children)', pp(E.temporal), '', '']);
  rows.push(['  Temporal + warm pool', pp(E.temporalPool), '', '']);
  const overhead = t.get('Temporal overhead vs parallel no-Temporal baseline')!;
  rows.push(['  Temporal overhead vs parallel baseline', `${overhead.value >= 0 ? '+' : ''}${overhead.value}% (${x(E.overheadRatio)})`, ...judged(overhead.metric)]);
  rows.push(['  ceiling: sequential / its slowest specialist', x(E.parallelCeiling), '', '']);
  rows.push(['  parallel speedup, no Temporal (seq / par)', x(E.parallelSpeedup), ...judged('parallel speedup over sequential, no Temporal')]);
  rows.push(['  speedup, Temporal vs sequential baseline', x(E.temporalSpeedup), ...judged('speedup of a Temporal investigation over sequential')]);
  rows.push(['  speedup, Temporal + pool vs sequential baseline', x(E.temporalPoolSpeedup), ...judged('speedup of a Temporal + warm pool investigation over sequential')]);
  rows.push(['  warm pool gain (Temporal p50 / Temporal+pool p50)', x(E.poolGain), '', '']);
  rows.push(['  Temporal + pool vs parallel baseline (p50s)', x(E.temporalPool.p50 / E.baselineParallel.p50), '', '']);

  section(`Throughput (${r.settings.maxConcurrentActivities} concurrent activities per worker)`);
  r.throughput.cold.forEach((c, i) => {
    const p = r.throughput.pool[i]!;
    rows.push([`  ${c.concurrency} concurrent, cold`, `${c.perMinute.toFixed(1)} inv/min, p50 ${ms(c.p50Ms)}`, '', '']);
    rows.push([`  ${p.concurrency} concurrent, warm pool`, `${p.perMinute.toFixed(1)} inv/min, p50 ${ms(p.p50Ms)} (${x(p.perMinute / c.perMinute)})`, '', '']);
  });

  if (r.logs?.length) {
    section('Log agent evidence pass, fresh process per run (agent/count: vs a plain line count of the same bytes, same run)');
    for (const l of r.logs) {
      rows.push([
        `  ${l.format} ${l.lines.toLocaleString('en-US')} lines (${l.megabytes} MB)`,
        `${l.linesPerSecond.toLocaleString('en-US')} lines/s (${l.linesPerCpuSecond.toLocaleString('en-US')}/CPU-s), peak RSS ${l.peakRssMb} MB, ${x(l.ratioToCount)} a line count`,
        '',
        '',
      ]);
    }
    for (const g of r.targets.filter((t) => t.metric.startsWith('log agent'))) rows.push([`  ${g.metric}`, `${g.value} ${g.unit}`, g.target, g.met ? 'yes' : 'NO']);
  }

  // Section titles span the line; only the other rows set the column widths.
  const isSection = (row: Row) => !row[0].startsWith(' ');
  const widths = [0, 1, 2, 3].map((i) => Math.max(...[['metric', 'value', 'target', 'met?'], ...rows.filter((r) => !isSection(r))].map((row) => row[i]!.length)));
  const line = (row: string[]) => (isSection(row as Row) ? row[0]! : row.map((c, i) => c.padEnd(widths[i]!)).join('  ').trimEnd());
  return [['metric', 'value', 'target', 'met?'].map((c, i) => c.padEnd(widths[i]!)).join('  ').trimEnd(), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.map(line)].join('\n');
}
