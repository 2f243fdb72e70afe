import { readdir } from 'node:fs/promises';
import path from 'node:path';
import type { Config } from '../config';
import { omFilesOf } from '../stack/prometheus';
import { REPO_ROOT } from '../stack/tools';
import { startEmbeddedStack } from '../stack/embedded';
import { setUpReaperSchedule } from '../workers/schedule';
import { createWorker } from '../workers/worker';
import { requireAddress } from './client';

/** Every scenario's metrics go into one Prometheus, so any of them can be investigated. */
async function allOmFiles(): Promise<string[]> {
  const root = path.join(REPO_ROOT, 'scenarios');
  const dirs = await readdir(root, { withFileTypes: true }).catch(() => []);
  const files = await Promise.all(dirs.filter((d) => d.isDirectory()).map((d) => omFilesOf(path.join(root, d.name))));
  return files.flat();
}

function untilSignal(): Promise<void> {
  return new Promise((resolve) => {
    process.once('SIGINT', () => resolve());
    process.once('SIGTERM', () => resolve());
  });
}

/** `bulkhead dev`: the embedded stack in the foreground until Ctrl-C. */
export async function dev(config: Config, dbFile: string): Promise<number> {
  const stack = await startEmbeddedStack({ config, omFiles: await allOmFiles(), dbFile, wellKnownPorts: true, log: (l) => console.log(l) });
  console.log('');
  console.log(`Temporal UI:      ${stack.uiUrl}`);
  console.log(`TEMPORAL_ADDRESS=${stack.address}`);
  if (stack.prometheusUrl) console.log(`PROMETHEUS_URL=${stack.prometheusUrl}`);
  console.log(`Start an investigation from another shell:`);
  console.log(`  TEMPORAL_ADDRESS=${stack.address} npx bulkhead investigate --scenario scenarios/checkout-outage --detach`);
  console.log('Ctrl-C stops everything.');
  await untilSignal();
  console.log('stopping');
  await stack.stop();
  return 0;
}

/** `bulkhead worker`: a worker only, for an existing TEMPORAL_ADDRESS. */
export async function workerOnly(config: Config): Promise<number> {
  const address = requireAddress(config.TEMPORAL_ADDRESS, 'worker');
  const { worker, driver, close } = await createWorker({ config, address });
  console.log(`worker on ${address}, task queue ${config.BULKHEAD_TASK_QUEUE}, sandbox driver ${driver.kind}`);
  for (const l of driver.limitations) console.log(`sandbox driver ${driver.kind} limitation: ${l}`);
  await setUpReaperSchedule(address, config.TEMPORAL_NAMESPACE, config.BULKHEAD_TASK_QUEUE, console.log, console.error);
  const stop = () => worker.shutdown();
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  await worker.run();
  await close();
  return 0;
}
