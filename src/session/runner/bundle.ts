import { build } from 'esbuild';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';

/**
 * Builds the in-sandbox session runner: one self-contained CommonJS file (the SDK, undici and our
 * bash tool inlined), since nothing of the project is readable inside the sandbox. Node 20 is
 * enough: it uses the SDK's SessionToolRunner, not the Node 22 agent toolset.
 */
export async function buildRunnerBundle(): Promise<string> {
  const dir = await mkdtemp(path.join(tmpdir(), 'bh-session-runner-'));
  const outfile = path.join(dir, 'session-runner');
  await build({
    entryPoints: [path.join(import.meta.dirname, 'main.ts')],
    outfile,
    bundle: true,
    platform: 'node',
    format: 'cjs',
    target: 'node20',
    banner: { js: '#!/usr/bin/env node' },
    logLevel: 'error',
  });
  return outfile;
}
