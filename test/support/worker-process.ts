/**
 * A Bulkhead worker in its own process, so fault tests can SIGKILL it (no cleanup code runs) and
 * load tests can measure its memory apart from the test runner's. Configured like `bulkhead
 * worker` (TEMPORAL_ADDRESS, BULKHEAD_TASK_QUEUE, BULKHEAD_SANDBOX_ROOT, PROMETHEUS_URL, ...) plus:
 *   BULKHEAD_TEST_POLICY_DIR      policies to use instead of deploy/policies
 *   BULKHEAD_TEST_RUN_LOG         every agent run appends {"sandbox","event":"start"|"end","exitCode"}
 *   BULKHEAD_TEST_RUN_DELAY_MS    each agent run waits this long first, so kills land mid-run
 *   BULKHEAD_TEST_MAX_ACTIVITIES  maxConcurrentActivityTaskExecutions
 * Prints "worker ready" on stdout once it polls.
 */
import { appendFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { loadConfig } from '../../src/config';
import type { SandboxDriver } from '../../src/sandbox/driver';
import { LocalDriver } from '../../src/sandbox/local';
import { createWorker } from '../../src/workers/worker';
import { wrapDriver } from './wrap-driver';

const env = process.env;
const runLog = env.BULKHEAD_TEST_RUN_LOG;
const delayMs = Number(env.BULKHEAD_TEST_RUN_DELAY_MS ?? 0);
const isAgentRun = (argv: string[]) => argv[1] === 'agent.mjs' && argv.length === 2;
const record = (entry: object) => runLog && appendFileSync(runLog, `${JSON.stringify({ ...entry, pid: process.pid, at: Date.now() })}\n`);

/** The real local driver; agent runs are logged host-side, which a killed worker cannot undo. */
function recording(inner: LocalDriver): SandboxDriver {
  return wrapDriver(inner, {
    async exec(id, argv, opts) {
      if (!isAgentRun(argv)) return inner.exec(id, argv, opts);
      record({ sandbox: id, event: 'start' });
      if (delayMs) await sleep(delayMs, undefined, { signal: opts?.signal }).catch(() => undefined);
      const r = await inner.exec(id, argv, opts);
      record({ sandbox: id, event: 'end', exitCode: r.exitCode });
      return r;
    },
  });
}

const config = loadConfig();
const driver = recording(new LocalDriver({ root: config.BULKHEAD_SANDBOX_ROOT }));
const { worker, close } = await createWorker({
  config,
  address: config.TEMPORAL_ADDRESS!,
  driver,
  policyDir: env.BULKHEAD_TEST_POLICY_DIR,
  ...(env.BULKHEAD_TEST_MAX_ACTIVITIES ? { maxConcurrentActivities: Number(env.BULKHEAD_TEST_MAX_ACTIVITIES) } : {}),
});
process.once('SIGTERM', () => worker.shutdown());
const running = worker.run();
console.log('worker ready');
await running;
await close();
