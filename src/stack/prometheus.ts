import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { freePort } from './ports';
import { supervise, waitReady } from './proc';
import { prometheusBin, promtoolBin } from './tools';

const run = promisify(execFile);

export interface PrometheusOptions {
  /** OpenMetrics files (with timestamps, ending in # EOF) to backfill before start. */
  omFiles: string[];
  port?: number;
  /** TSDB directory; a temporary one (removed at stop) when omitted. */
  dataDir?: string;
  log?: (line: string) => void;
  readyTimeoutMs?: number;
  /** prometheus.yml to run with instead of the no-scrape default (a live setup: scrape jobs, rules, alerting). */
  config?: string;
  /** Files written next to prometheus.yml (e.g. rule files the config names by relative path). */
  files?: Record<string, string>;
}

export interface PrometheusServer {
  /** Base URL, e.g. http://127.0.0.1:9090 (the HTTP API is under /api/v1). */
  url: string;
  stop(): Promise<void>;
}

// Nothing is scraped: all data is backfilled history.
const CONFIG = 'global:\n  scrape_interval: 1m\nscrape_configs: []\n';

/** DIR/metrics/*.om of a scenario, sorted; empty when the scenario has no metrics. */
export async function omFilesOf(scenarioDir: string): Promise<string[]> {
  const dir = resolve(scenarioDir, 'metrics');
  if (!existsSync(dir)) return [];
  return (await readdir(dir)).filter((f) => f.endsWith('.om')).sort().map((f) => join(dir, f));
}

export async function backfill(omFile: string, dataDir: string): Promise<void> {
  try {
    await run(promtoolBin(), ['tsdb', 'create-blocks-from', 'openmetrics', omFile, dataDir], { maxBuffer: 16 << 20 });
  } catch (err) {
    const e = err as { stderr?: string; stdout?: string; message: string };
    throw new Error(`promtool could not load ${omFile}: ${(e.stderr || e.stdout || e.message).trim()}`);
  }
}

export async function startPrometheus(opts: PrometheusOptions): Promise<PrometheusServer> {
  const bin = prometheusBin();
  const workDir = await mkdtemp(join(tmpdir(), 'bulkhead-prom-'));
  const cleanup = () => rm(workDir, { recursive: true, force: true });
  try {
    const dataDir = opts.dataDir ?? join(workDir, 'data');
    await mkdir(dataDir, { recursive: true });
    for (const f of opts.omFiles) await backfill(f, dataDir);
    const configFile = join(workDir, 'prometheus.yml');
    await writeFile(configFile, opts.config ?? CONFIG);
    for (const [name, text] of Object.entries(opts.files ?? {})) await writeFile(join(workDir, name), text);

    const port = opts.port ?? (await freePort());
    const url = `http://127.0.0.1:${port}`;
    const proc = supervise(bin, [
      `--config.file=${configFile}`,
      `--storage.tsdb.path=${dataDir}`,
      // The backfilled blocks are in the past; the default 15d retention would delete them.
      '--storage.tsdb.retention.time=100y',
      // Backfilled series end without staleness markers: a replaced pod's last value would
      // linger for the default 5 min and blur onsets.
      '--query.lookback-delta=1m',
      `--web.listen-address=127.0.0.1:${port}`,
      '--log.level=warn',
    ], { log: opts.log });
    const stop = async () => {
      await proc.stop();
      await cleanup();
    };
    try {
      await waitReady(`prometheus on ${url}`, proc, async () => (await fetch(`${url}/-/ready`)).ok, opts.readyTimeoutMs ?? 30_000);
    } catch (err) {
      await stop();
      throw err;
    }
    return { url, stop };
  } catch (err) {
    await cleanup();
    throw err;
  }
}
