import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { Config } from '../config';
import { InputError } from '../errors';
import { runBench } from '../bench/run';
import { renderTable } from '../bench/table';
import { benchLogs, logTargets, renderLogBench } from '../bench/logs';
import os from 'node:os';
import { REPO_ROOT } from '../stack/tools';
import { parseFlags } from './args';

/**
 * `bulkhead bench [--quick] [--out FILE] [--model-delay MS] [--pool K] [--logs] [--logs-10m]`: the table, and
 * bench/results.json. `--logs` runs only the log-agent section (bench/logs-results.json); `--logs-10m` adds 10M lines.
 */
export async function bench(config: Config, argv: string[]): Promise<number> {
  const { values } = parseFlags({
    args: argv,
    options: {
      quick: { type: 'boolean' },
      out: { type: 'string' },
      'model-delay': { type: 'string' },
      pool: { type: 'string' },
      logs: { type: 'boolean' },
      'logs-10m': { type: 'boolean' },
    },
    strict: true,
  });
  const int = (name: string, v: string | undefined, min: number): number | undefined => {
    if (v === undefined) return undefined;
    const n = Number(v);
    if (!Number.isInteger(n) || n < min) throw new InputError(`--${name}`, `an integer >= ${min}`);
    return n;
  };
  const modelDelayMs = int('model-delay', values['model-delay'], 0);
  const poolSize = int('pool', values.pool, 1);
  const logSizes = [...(values.quick ? [100_000] : [100_000, 1_000_000]), ...(values['logs-10m'] ? [10_000_000] : [])];
  const t0 = Date.now();
  if (values.logs) {
    const rows = await benchLogs({ sizes: logSizes, log: (l) => console.error(`[bench] ${l}`) });
    const out = path.resolve(values.out ?? path.join(REPO_ROOT, 'bench/logs-results.json'));
    await mkdir(path.dirname(out), { recursive: true });
    await writeFile(out, JSON.stringify({ generatedAt: new Date().toISOString(), cpus: os.cpus().length, loadAvg: os.loadavg(), rows, targets: logTargets(rows) }, null, 2) + '\n');
    console.log(renderLogBench(rows));
    for (const g of logTargets(rows)) console.log(`${g.metric}: ${g.value} ${g.unit} (target ${g.target}) ${g.met ? 'met' : 'NOT met'}`);
    console.log(`\nload average ${os.loadavg().map((l) => l.toFixed(2)).join(' ')}; ${Math.round((Date.now() - t0) / 1000)} s. Written to ${path.relative(process.cwd(), out) || out}`);
    return 0;
  }
  const out = path.resolve(values.out ?? path.join(REPO_ROOT, 'bench/results.json'));

  const results = await runBench({
    quick: values.quick,
    modelDelayMs,
    poolSize,
    maxSandboxes: config.BULKHEAD_MAX_SANDBOXES,
    logSizes,
    log: (l) => console.error(`[bench] ${l}`),
  });
  await mkdir(path.dirname(out), { recursive: true });
  await writeFile(out, JSON.stringify(results, null, 2) + '\n');
  const [l1, l5, l15] = results.machine.loadAvgStart;
  const [e1, e5, e15] = results.machine.loadAvgEnd;
  console.log(renderTable(results));
  console.log(
    `\n${results.machine.cpus} CPUs, load average ${l1} ${l5} ${l15} at start, ${e1} ${e5} ${e15} at end; ` +
      `${Math.round((Date.now() - t0) / 1000)} s${results.quick ? ' (--quick: smoke run, not figures to quote)' : ''}. Written to ${path.relative(process.cwd(), out) || out}`,
  );
  return 0;
}
