import { build } from 'esbuild';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';

const ENTRY = path.join(import.meta.dirname, 'main.ts');

/**
 * Builds the in-sandbox `dispatch` executable: one CommonJS file with a node shebang (the file
 * has no extension and no package.json near it, so Node loads it as CommonJS).
 */
export async function buildDispatchBundle(): Promise<string> {
  const dir = await mkdtemp(path.join(tmpdir(), 'bh-dispatch-'));
  const outfile = path.join(dir, 'dispatch');
  await build({
    entryPoints: [ENTRY],
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
