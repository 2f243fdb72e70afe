import { execFile } from 'node:child_process';
import { cp, mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { beforeAll, describe, expect, it } from 'vitest';
import { REPO_ROOT } from '../src/stack/tools';

const run = promisify(execFile);
const BIN = path.join(REPO_ROOT, 'bin/bulkhead.mjs');

async function bulkhead(args: string[], env: Record<string, string> = {}) {
  try {
    const r = await run(process.execPath, [BIN, ...args], { env: { PATH: process.env.PATH!, HOME: process.env.HOME!, ...env } });
    return { code: 0, stdout: r.stdout, stderr: r.stderr };
  } catch (e) {
    const err = e as { code: number; stdout: string; stderr: string };
    return { code: err.code, stdout: err.stdout, stderr: err.stderr };
  }
}

/** A copy of the seed scenario with one file broken by `mutate`. */
async function broken(mutate: (dir: string) => Promise<void>): Promise<string> {
  const dir = await mkdtemp(path.join(tmpdir(), 'bh-bad-scenario-'));
  await cp(path.join(REPO_ROOT, 'scenarios/checkout-outage'), dir, { recursive: true });
  await mutate(dir);
  return dir;
}

describe('bad input fails fast with exit code 2 and names the field', () => {
  let scenario: string;
  beforeAll(() => {
    scenario = path.join(REPO_ROOT, 'scenarios/checkout-outage');
  });

  it.each([
    ['missing --scenario', ['investigate'], '--scenario'],
    ['unknown command', ['investigat'], 'unknown command'],
    ['unknown flag', ['investigate', '--scenari', 'x'], 'arguments'],
    ['not a directory', ['investigate', '--scenario', '/nonexistent/dir'], '--scenario'],
  ])('%s', async (_name, args, field) => {
    const r = await bulkhead(args);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(field);
  });

  it('invalid configuration names the variable', async () => {
    const r = await bulkhead(['investigate', '--scenario', scenario], { PROMETHEUS_URL: 'not a url' });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('PROMETHEUS_URL');
  });

  it('a scenario.yaml missing a field names it', async () => {
    const dir = await broken(async (d) => {
      const f = path.join(d, 'scenario.yaml');
      const text = (await import('node:fs/promises')).readFile(f, 'utf8');
      await writeFile(f, (await text).replace(/^severity:.*$/m, ''));
    });
    const r = await bulkhead(['investigate', '--scenario', dir]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/scenario\.yaml: severity/);
  });

  it('a malformed log line names the file and line', async () => {
    const dir = await broken(async (d) => {
      const logs = path.join(d, 'logs');
      await writeFile(path.join(logs, 'zz-bad.jsonl'), '{"ts":"2026-03-28T14:00:00Z","labels":{},"line":"ok"}\n{"ts":"yesterday","labels":{},"line":"x"}\n');
    });
    const r = await bulkhead(['investigate', '--scenario', dir]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('logs/zz-bad.jsonl:2: ts');
  });

  it('an inverted window names window.start', async () => {
    const dir = await broken(async (d) => {
      const f = path.join(d, 'scenario.yaml');
      const { readFile } = await import('node:fs/promises');
      const y = await readFile(f, 'utf8');
      const start = /start: *"?([^"\n]+)"?/.exec(y)![1]!;
      const end = /end: *"?([^"\n]+)"?/.exec(y)![1]!;
      await writeFile(f, y.replace(start, '__S__').replace(end, start).replace('__S__', end));
    });
    const r = await bulkhead(['investigate', '--scenario', dir]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('window.start');
  });
});
