import { spawn } from 'node:child_process';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { InputError } from '../errors';
import { checkedFiles, MAX_OM_FILE_BYTES, openRegular, scenarioRoot } from '../scenario/files';
import { freePort } from './ports';
import { supervise, waitReady } from './proc';
import { prometheusBin, promtoolBin } from './tools';

/** util-linux, always on Debian: sets rlimits on the command it runs. */
const PRLIMIT = '/usr/bin/prlimit';

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

/** DIR/metrics/*.om of a scenario, sorted and checked (regular files inside it); empty when none. */
export async function omFilesOf(scenarioDir: string): Promise<string[]> {
  const root = await scenarioRoot(scenarioDir).catch(() => null);
  if (!root) return [];
  return (await checkedFiles(root, 'metrics', ['.om'], MAX_OM_FILE_BYTES)).map((f) => f.path);
}

/** promtool's bounds: it runs on the host, outside any sandbox, so a hostile file must not take it. */
export const PROMTOOL_LIMITS = { dataBytes: 1 << 30, cpuSeconds: 120, wallMs: 180_000, goMemLimit: '512MiB' };

/** The last lines of promtool's output, without anything that looks like file content (sample lines). */
function promtoolError(out: string): string {
  const lines = out.split('\n').map((l) => l.trim()).filter((l) => l && !/^(goroutine|\S+\.go:\d+|[\w./*()-]+\(0x)/.test(l));
  return lines.slice(0, 3).join('; ').slice(0, 400) || 'no output';
}

/**
 * Backfills one OpenMetrics file. The file is opened here without following a symlink, checked
 * to be a regular file, and handed to promtool as /dev/fd/3, so promtool reads exactly what was
 * checked (the scenario loader checked its place, size and series count first). promtool runs
 * under prlimit (data segment, CPU time) with GOMEMLIMIT and a wall-clock kill.
 */
export async function backfill(omFile: string, dataDir: string, limits = PROMTOOL_LIMITS): Promise<void> {
  const rel = `metrics/${basename(omFile)}`;
  const fh = await openRegular(omFile, rel);
  try {
    const size = (await fh.stat()).size;
    if (size > MAX_OM_FILE_BYTES) throw new InputError(rel, `is ${size} bytes; the limit is ${MAX_OM_FILE_BYTES} bytes`);
    const argv = [
      `--data=${limits.dataBytes}`,
      `--cpu=${limits.cpuSeconds}`,
      '--',
      promtoolBin(),
      'tsdb',
      'create-blocks-from',
      'openmetrics',
      '/dev/fd/3',
      dataDir,
    ];
    const child = spawn(PRLIMIT, argv, {
      stdio: ['ignore', 'pipe', 'pipe', fh.fd],
      env: { PATH: process.env.PATH ?? '/usr/bin:/bin', GOMEMLIMIT: limits.goMemLimit },
    });
    let out = '';
    const keep = (c: Buffer) => {
      if (out.length < 65536) out += c.toString('utf8');
    };
    child.stdout!.on('data', keep);
    child.stderr!.on('data', keep);
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill('SIGKILL');
    }, limits.wallMs);
    const { code, signal } = await new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((res) => {
      child.once('error', (e) => {
        out += e.message;
        res({ code: null, signal: null });
      });
      child.once('close', (c, s) => res({ code: c, signal: s }));
    }).finally(() => clearTimeout(timer));
    if (code === 0) return;
    const why = timedOut
      ? `took longer than ${limits.wallMs / 1000} s`
      : signal === 'SIGXCPU' || signal === 'SIGKILL'
        ? `stopped by its limits (${signal})`
        : /cannot allocate memory|out of memory|pthread_create failed|resource temporarily unavailable/i.test(out)
          ? `hit its memory limit (${limits.dataBytes} bytes)`
          : promtoolError(out);
    throw new InputError(rel, `promtool could not load it: ${why}`);
  } finally {
    await fh.close();
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
