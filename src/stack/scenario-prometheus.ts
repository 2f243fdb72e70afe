import { stat } from 'node:fs/promises';
import { startPrometheus, type PrometheusServer } from './prometheus';

/**
 * One Prometheus per scenario, started by the worker that investigates it (issue 10 finding 8):
 * a scenario's metrics are served to that scenario's investigations only. Its URL goes into the
 * investigation's sources, so the metrics sandbox's policy allows exactly that port and no other
 * incident's series. Shared by concurrent investigations of the same scenario (same files, same
 * sizes and mtimes), stopped when its lease runs out without a new investigation, and on stop.
 */

/** Longer than an investigation's default deadline (30 min): a running one keeps its Prometheus. */
export const SCENARIO_PROMETHEUS_LEASE_MS = 60 * 60_000;

interface Entry {
  server: Promise<PrometheusServer>;
  timer: NodeJS.Timeout | null;
}

const servers = new Map<string, Entry>();

async function fingerprint(dir: string, omFiles: string[]): Promise<string> {
  const parts = await Promise.all(omFiles.map(async (f) => {
    const s = await stat(f);
    return `${f}:${s.size}:${s.mtimeMs}`;
  }));
  return `${dir}\n${parts.join('\n')}`;
}

function stopEntry(key: string, e: Entry): Promise<void> {
  if (e.timer) clearTimeout(e.timer);
  if (servers.get(key) === e) servers.delete(key);
  return e.server.then((s) => s.stop(), () => undefined);
}

/**
 * The URL of the scenario's own Prometheus, loaded with its checked .om files (see
 * src/scenario/load.ts), starting it if needed; each call renews the lease.
 */
export async function scenarioPrometheus(dir: string, omFiles: string[], leaseMs = SCENARIO_PROMETHEUS_LEASE_MS): Promise<string> {
  const key = await fingerprint(dir, omFiles);
  let e = servers.get(key);
  if (!e) {
    e = { server: startPrometheus({ omFiles }), timer: null };
    servers.set(key, e);
    const entry = e;
    // A failed start is not cached: the next investigation tries again.
    e.server.catch(() => servers.get(key) === entry && servers.delete(key));
  }
  const entry = e;
  if (entry.timer) clearTimeout(entry.timer);
  entry.timer = setTimeout(() => void stopEntry(key, entry), leaseMs);
  entry.timer.unref();
  return (await entry.server).url;
}

/** How many scenario Prometheus servers this process runs (for tests and `dev`'s status). */
export const scenarioPrometheusCount = () => servers.size;

/** Stops every scenario Prometheus of this process (worker and stack shutdown). */
export async function stopScenarioPrometheus(): Promise<void> {
  await Promise.all([...servers.entries()].map(([k, e]) => stopEntry(k, e)));
}
