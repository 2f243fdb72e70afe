import { build } from 'esbuild';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';

/**
 * Bundles an entry point into one self-contained CommonJS executable with a node shebang, for
 * use inside a sandbox where nothing of the project is readable. The file has no extension and no
 * package.json near it, so Node loads it as CommonJS.
 */
export async function buildNodeExecutable(entry: string, name: string): Promise<string> {
  const dir = await mkdtemp(path.join(tmpdir(), `bh-${name}-`));
  const outfile = path.join(dir, name);
  await build({
    entryPoints: [entry],
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
