import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, readdir, readFile, rename, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';

/**
 * The agent runner as ONE self-contained ESM file (node built-ins + bundled npm code), which is
 * all a sandbox needs besides node. Named by content hash; a key over the sources and the
 * lockfile lets a rebuild be skipped without even running esbuild.
 */
const repoRoot = resolve(import.meta.dirname, '..', '..');
const entry = join(repoRoot, 'src', 'agents', 'runner.ts');
/** CJS dependencies call require(); ESM output has none unless we define it. */
const BANNER = "import { createRequire as __bulkheadCreateRequire } from 'node:module'; const require = __bulkheadCreateRequire(import.meta.url);";

async function listSources(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const e of await readdir(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) out.push(...(await listSources(p)));
    else if (/\.(ts|mts|js|mjs|json)$/.test(e.name)) out.push(p);
  }
  return out.sort();
}

/** Everything the bundle can depend on: agent and schema sources, the lockfile, esbuild's version. */
async function inputKey(): Promise<string> {
  const h = createHash('sha256');
  const files = [...(await listSources(join(repoRoot, 'src', 'agents'))), ...(await listSources(join(repoRoot, 'src', 'schemas')))];
  const lock = join(repoRoot, 'package-lock.json');
  if (existsSync(lock)) files.push(lock);
  for (const f of files) {
    h.update(f.slice(repoRoot.length));
    h.update('\0');
    h.update(await readFile(f));
  }
  return h.digest('hex').slice(0, 16);
}

const memo = new Map<string, Promise<string>>();

export function buildAgentBundle(outDir: string = join(repoRoot, '.bulkhead', 'agent')): Promise<string> {
  let p = memo.get(outDir);
  if (!p) {
    p = build(outDir);
    memo.set(outDir, p);
    // A failed build must not stick: the next call retries.
    p.catch(() => memo.delete(outDir));
  }
  return p;
}

async function build(outDir: string): Promise<string> {
  await mkdir(outDir, { recursive: true });
  const key = await inputKey();
  const index = join(outDir, `inputs-${key}.txt`);
  if (existsSync(index)) {
    const name = (await readFile(index, 'utf8')).trim();
    if (existsSync(join(outDir, name))) return join(outDir, name);
  }
  const esbuild = await import('esbuild');
  const result = await esbuild.build({
    entryPoints: [entry],
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    write: false,
    // Whitespace and syntax only: a smaller file parses faster at every sandbox start, while
    // identifiers stay readable in the stack traces an agent failure prints.
    minifyWhitespace: true,
    minifySyntax: true,
    legalComments: 'none',
    banner: { js: BANNER },
    logLevel: 'silent',
  });
  const code = result.outputFiles[0]!.contents;
  const hash = createHash('sha256').update(code).digest('hex').slice(0, 16);
  const name = `agent-${hash}.mjs`;
  const file = join(outDir, name);
  if (!existsSync(file)) {
    // Write-then-rename so a concurrent reader never sees half a bundle.
    const tmp = `${file}.${process.pid}.tmp`;
    await writeFile(tmp, code);
    await rename(tmp, file);
  }
  await writeFile(index, `${name}\n`);
  return file;
}
