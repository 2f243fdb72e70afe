import { execFile } from 'node:child_process';
import { cp, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { REPO_ROOT } from '../src/stack/tools';

const run = promisify(execFile);

// The README's promise is two commands on a fresh clone. These checks fail on the two ways that
// promise broke before: a lock file npm ci refuses, and state folders the demo assumed existed.
describe('fresh clone', () => {
  it('npm ci accepts the committed lock file as it is', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'bh-npm-ci-'));
    try {
      for (const f of ['package.json', 'package-lock.json']) await cp(path.join(REPO_ROOT, f), path.join(dir, f));
      // --dry-run still checks that the lock and package.json agree (EUSAGE otherwise), offline.
      const r = await run('npm', ['ci', '--dry-run', '--ignore-scripts', '--no-audit', '--no-fund'], { cwd: dir });
      expect(r.stderr).not.toMatch(/EUSAGE|npm error/);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('npm run demo succeeds on a clone with no state from this tree', async () => {
    const r = await run('bash', [path.join(REPO_ROOT, 'scripts/fresh-clone.sh'), '--reuse'], {
      cwd: REPO_ROOT,
      maxBuffer: 32 * 1024 * 1024,
      // The demo brings up its own stack; an address from the caller's shell would bypass that.
      env: Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('TEMPORAL_'))),
    });
    expect(r.stdout).toMatch(/fresh-clone: npm run demo passed/);
    expect(r.stdout).toMatch(/checkout-service-v2\.14\.3/);
  }, 300_000);
});
