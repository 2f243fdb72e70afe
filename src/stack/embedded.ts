import { DefaultLogger, Runtime, type Worker } from '@temporalio/worker';
import type { Config } from '../config';
import type { SandboxDriver } from '../sandbox/driver';
import { setUpReaperSchedule } from '../workers/schedule';
import { createWorker } from '../workers/worker';
import { isPortFree } from './ports';
import { startPrometheus } from './prometheus';
import { stopScenarioPrometheus } from './scenario-prometheus';
import { startDevServer } from './temporal';

export interface EmbeddedStack {
  address: string;
  uiUrl: string | null;
  prometheusUrl: string | null;
  driver: SandboxDriver;
  /** Stops the worker (letting in-flight cleanup finish), then Prometheus and the server. */
  stop(): Promise<void>;
}

export interface EmbeddedOptions {
  config: Config;
  /** OpenMetrics files to load into a fresh Prometheus (skipped when PROMETHEUS_URL is set). */
  omFiles: string[];
  /** Persist Temporal's state, so the UI shows past investigations after a restart. */
  dbFile?: string;
  /** Prefer the well-known ports (7233, UI 8233) when free, as `dev` and `demo` do. */
  wellKnownPorts?: boolean;
  log?: (line: string) => void;
}

/**
 * The whole stack in one process tree: Temporal dev server (with its UI), Prometheus loaded
 * with the scenario's metrics, and a worker. What `demo`, `dev` and `investigate` run on when
 * no TEMPORAL_ADDRESS is given.
 */
export async function startEmbeddedStack(opts: EmbeddedOptions): Promise<EmbeddedStack> {
  const log = opts.log ?? (() => undefined);
  installRuntimeWithoutSignals();
  const stops: (() => Promise<void>)[] = [];
  const stopAll = async () => {
    for (const s of stops.reverse()) await s().catch(() => undefined);
  };
  try {
    const wellKnown = opts.wellKnownPorts && (await isPortFree(7233)) && (await isPortFree(8233));
    const server = await startDevServer({
      ...(wellKnown ? { port: 7233, uiPort: 8233 } : {}),
      dbFile: opts.dbFile,
      namespace: opts.config.TEMPORAL_NAMESPACE,
    });
    stops.push(() => server.stop());
    log(`temporal dev server at ${server.address}${server.uiUrl ? `, UI ${server.uiUrl}` : ''}`);

    let prometheusUrl = opts.config.PROMETHEUS_URL ?? null;
    if (!prometheusUrl && opts.omFiles.length) {
      const prom = await startPrometheus({ omFiles: opts.omFiles });
      stops.push(() => prom.stop());
      prometheusUrl = prom.url;
      log(`prometheus at ${prom.url} with ${opts.omFiles.length} metrics file(s)`);
    }

    const config: Config = { ...opts.config, ...(prometheusUrl ? { PROMETHEUS_URL: prometheusUrl } : {}) };
    const { worker, driver, close } = await createWorker({ config, address: server.address });
    const running = runWorker(worker);
    stops.push(async () => {
      if (worker.getState() === 'RUNNING') worker.shutdown();
      await running;
      await close();
      // Per-scenario Prometheus servers the worker started (when no PROMETHEUS_URL was given).
      await stopScenarioPrometheus();
    });
    log(`worker polling task queue ${config.BULKHEAD_TASK_QUEUE} (sandbox driver: ${driver.kind})`);
    for (const l of driver.limitations) log(`sandbox driver ${driver.kind} limitation: ${l}`);
    await setUpReaperSchedule(server.address, config.TEMPORAL_NAMESPACE, config.BULKHEAD_TASK_QUEUE, log);
    return { address: server.address, uiUrl: server.uiUrl, prometheusUrl, driver, stop: stopAll };
  } catch (e) {
    await stopAll();
    throw e;
  }
}

/**
 * The SDK's Runtime shuts every worker down on SIGINT/SIGTERM by default. In the embedded stack
 * the command that owns the process handles those signals (src/cli/interrupt.ts): it cancels the
 * investigation and needs this worker alive to run the cancelled workflows' sandbox deletes.
 * Installed before createWorker, whose own install then keeps this one.
 */
function installRuntimeWithoutSignals(): void {
  try {
    Runtime.install({ logger: new DefaultLogger((process.env.BULKHEAD_LOG_LEVEL as 'WARN' | undefined) ?? 'WARN'), shutdownSignals: [] });
  } catch {
    // Already installed (a second stack in this process, or a test harness): keep it.
  }
}

function runWorker(worker: Worker): Promise<void> {
  return worker.run().catch((e: unknown) => {
    console.error(`worker stopped: ${(e as Error).message}`);
  });
}
