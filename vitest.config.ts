import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // Real processes (dev server, Prometheus, sandboxes) on a 2-core machine: be patient, one file at a time.
    testTimeout: 120_000,
    hookTimeout: 120_000,
    teardownTimeout: 30_000,
    fileParallelism: false,
    globalSetup: ['test/global-setup.ts'],
  },
});
