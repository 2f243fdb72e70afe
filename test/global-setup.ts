import type { TestProject } from 'vitest/node';
import { startDevServer } from '../src/stack/temporal';

// One dev server for the whole run: it costs seconds to start, and tests isolate themselves
// by workflow id and task queue instead.
declare module 'vitest' {
  export interface ProvidedContext {
    /** host:port of the run's Temporal dev server (namespace "default"). */
    temporalAddress: string;
  }
}

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const t0 = Date.now();
  const server = await startDevServer({ uiPort: false, log: (l) => process.env.BULKHEAD_TEST_LOG && console.error(`[temporal] ${l}`) });
  if (process.env.BULKHEAD_TEST_LOG) console.error(`temporal dev server ready at ${server.address} in ${Date.now() - t0} ms`);
  project.provide('temporalAddress', server.address);
  return () => server.stop();
}
