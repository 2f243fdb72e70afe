import type { Config } from '../config';
import { startEmbeddedStack } from '../stack/embedded';
import { stopScenarioPrometheus } from '../stack/scenario-prometheus';
import { setUpReaperSchedule } from '../workers/schedule';
import { createWorker } from '../workers/worker';
import { requireAddress } from './client';

function untilSignal(): Promise<void> {
  return new Promise((resolve) => {
    process.once('SIGINT', () => resolve());
    process.once('SIGTERM', () => resolve());
  });
}

/** `bulkhead dev`: the embedded stack in the foreground until Ctrl-C. */
export async function dev(config: Config, dbFile: string): Promise<number> {
  // No shared Prometheus with every scenario's metrics: the worker starts one per investigated
  // scenario (src/stack/scenario-prometheus.ts), so a metrics sandbox sees its own incident only.
  const stack = await startEmbeddedStack({ config, omFiles: [], dbFile, wellKnownPorts: true, log: (l) => console.log(l) });
  console.log('');
  console.log(`Temporal UI:      ${stack.uiUrl}`);
  console.log(`TEMPORAL_ADDRESS=${stack.address}`);
  if (stack.prometheusUrl) console.log(`PROMETHEUS_URL=${stack.prometheusUrl}`);
  else console.log('Scenario metrics: each investigated scenario gets its own Prometheus, started by the worker.');
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
  await stopScenarioPrometheus();
  return 0;
}
