import { execFile } from 'node:child_process';
import { cp, mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import net from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { beforeAll, describe, expect, it } from 'vitest';
import { validateOut } from '../src/cli/validate-out';
import { loadScenario } from '../src/scenario/load';
import { MAX_OM_SERIES } from '../src/scenario/openmetrics';
import { backfill, PROMTOOL_LIMITS } from '../src/stack/prometheus';
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

/** TEMPORAL_ADDRESS pointing nowhere: a scenario accepted by mistake fails to connect, starting nothing. */
const NOWHERE = { TEMPORAL_ADDRESS: '127.0.0.1:9' };

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
      await writeFile(path.join(logs, 'zz-bad.jsonl'), '\n{"ts":"yesterday","labels":{},"line":"x"}\n{"ts":"2026-03-28T14:00:00Z","line":"no labels"}\n');
    });
    const r = await bulkhead(['investigate', '--scenario', dir], NOWHERE);
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

/**
 * Finding 5 (issue 10): scenario files are untrusted and parsed on the host. Links out of the
 * scenario, special files and oversized metrics are refused naming the file, exit 2, quickly,
 * and nothing of a file outside the scenario appears in the output.
 */
describe('untrusted scenario files', () => {
  const SECRET = 'TOP-SECRET-CANARY-7f3a9c';
  let secretFile: string;
  beforeAll(async () => {
    const d = await mkdtemp(path.join(tmpdir(), 'bh-secret-'));
    secretFile = path.join(d, 'secret.txt');
    await writeFile(secretFile, `${SECRET}\n${SECRET} 1\n`);
  });

  const refused = async (mutate: (d: string) => Promise<void>, field: string, why: RegExp) => {
    const dir = await broken(mutate);
    const r = await bulkhead(['investigate', '--scenario', dir], NOWHERE);
    expect(r.code, r.stderr).toBe(2);
    expect(r.stderr).toContain(field);
    expect(r.stderr).toMatch(why);
    expect(r.stderr + r.stdout).not.toContain(SECRET);
    expect(r.stderr).not.toMatch(/\n\s+at /); // a message, not a stack trace
    expect(r.stderr).not.toContain('TEMPORAL_ADDRESS'); // refused before connecting anywhere
  };

  it('a log file linked to a file outside the scenario', async () => {
    await refused((d) => symlink(secretFile, path.join(d, 'logs/app.jsonl')), 'logs/app.jsonl', /leads out of the scenario/);
  });
  it('a metrics file linked to a secret (promtool would print it)', async () => {
    await refused((d) => symlink(secretFile, path.join(d, 'metrics/zz.om')), 'metrics/zz.om', /leads out of the scenario/);
  });
  it('a logs directory linked out of the scenario', async () => {
    await refused(async (d) => {
      await rm(path.join(d, 'logs'), { recursive: true });
      await symlink(path.dirname(secretFile), path.join(d, 'logs'));
    }, 'logs', /leads out of the scenario/);
  });
  it('scenario.yaml linked out of the scenario', async () => {
    await refused(async (d) => {
      await rm(path.join(d, 'scenario.yaml'));
      await symlink(secretFile, path.join(d, 'scenario.yaml'));
    }, 'scenario.yaml', /leads out of the scenario/);
  });
  it('a FIFO named .jsonl does not hang the loader', async () => {
    await refused(async (d) => {
      await run('mkfifo', [path.join(d, 'logs/pipe.jsonl')]);
    }, 'logs/pipe.jsonl', /FIFO/);
  });
  it('a device named .jsonl, directly or through a link to /dev/zero', async () => {
    await refused((d) => run('mknod', [path.join(d, 'logs/zero.jsonl'), 'c', '1', '5']).then(() => undefined), 'logs/zero.jsonl', /device/);
    await refused((d) => symlink('/dev/zero', path.join(d, 'logs/zero.jsonl')), 'logs/zero.jsonl', /leads out/);
  });
  it('a directory named x.jsonl, a socket named y.om, a dangling link', async () => {
    await refused((d) => mkdir(path.join(d, 'logs/x.jsonl')), 'logs/x.jsonl', /is a directory/);
    await refused(async (d) => {
      const server = net.createServer();
      await new Promise<void>((res) => server.listen(path.join(d, 'metrics/y.om'), res));
      server.close();
      // close() unlinks the socket file; make a fresh one that stays.
      await run(process.execPath, ['-e', `require('net').createServer().listen(${JSON.stringify(path.join(d, 'metrics/y.om'))}, () => process.exit(0))`]);
    }, 'metrics/y.om', /socket/);
    await refused((d) => symlink(path.join(d, 'logs/nowhere'), path.join(d, 'runbooks/gone.md')), 'runbooks/gone.md', /dangling/);
  });
  it('metrics with more series than the bound are refused before promtool runs', async () => {
    await refused(async (d) => {
      const lines = ['# TYPE bomb gauge'];
      for (let i = 0; i <= MAX_OM_SERIES; i++) lines.push(`bomb{i="${i}"} 1 1774699200`);
      lines.push('# EOF', '');
      await writeFile(path.join(d, 'metrics/bomb.om'), lines.join('\n'));
    }, 'metrics/bomb.om', new RegExp(`limit is ${MAX_OM_SERIES}`));
  });
  it('a link inside the scenario that stays inside is fine', async () => {
    const dir = await broken(async (d) => {
      await mkdir(path.join(d, 'extra'));
      await run('cp', [path.join(d, 'logs/deployer.jsonl'), path.join(d, 'extra/deployer.jsonl')]);
      await rm(path.join(d, 'logs/deployer.jsonl'));
      await symlink('../extra/deployer.jsonl', path.join(d, 'logs/deployer.jsonl'));
    });
    const s = await loadScenario(dir);
    expect(s.sources.logsDir).toBe(path.join(s.dir, 'logs'));
    expect(s.omFiles.length).toBe(3);
  });
});

describe('promtool runs only on checked files, with limits', () => {
  it('refuses a symlink and a FIFO, and stops at its memory limit on a hostile file', async () => {
    const d = await mkdtemp(path.join(tmpdir(), 'bh-promtool-'));
    await symlink('/etc/passwd', path.join(d, 'link.om'));
    await expect(backfill(path.join(d, 'link.om'), path.join(d, 'data'))).rejects.toThrow(/metrics\/link\.om: is a symbolic link/);
    await run('mkfifo', [path.join(d, 'pipe.om')]);
    await expect(backfill(path.join(d, 'pipe.om'), path.join(d, 'data'))).rejects.toThrow(/metrics\/pipe\.om: is a FIFO/);
    // 200k series; with a 64 MiB data limit promtool cannot hold them and must fail, not grow.
    const lines = ['# TYPE bomb gauge'];
    for (let i = 0; i < 200_000; i++) lines.push(`bomb{i="${i}",pad="${'x'.repeat(40)}"} 1 1774699200`);
    lines.push('# EOF', '');
    await writeFile(path.join(d, 'bomb.om'), lines.join('\n'));
    const limits = { ...PROMTOOL_LIMITS, dataBytes: 64 << 20, goMemLimit: '32MiB' };
    const err = await backfill(path.join(d, 'bomb.om'), path.join(d, 'data'), limits).then(() => null, (e: Error) => e);
    expect(err?.message).toMatch(/metrics\/bomb\.om: promtool could not load it: (hit its memory limit|stopped by its limits)/);
    await rm(d, { recursive: true, force: true });
  });
});

/** Finding 9 (issue 10): --out is checked before anything starts, naming --out, exit 2. */
describe('--out is validated first', () => {
  let tmp: string;
  beforeAll(async () => {
    tmp = await mkdtemp(path.join(tmpdir(), 'bh-out-'));
    await writeFile(path.join(tmp, 'a-file'), 'keep me\n');
    await mkdir(path.join(tmp, 'has-dir-report/report.json'), { recursive: true });
  });
  const scenario = path.join(REPO_ROOT, 'scenarios/checkout-outage');

  it.each([
    ['an existing file', () => path.join(tmp, 'a-file'), /exists and is not a directory/],
    ['a path under a file', () => path.join(tmp, 'a-file/sub'), /is not a directory, so .* cannot be created/],
    ['the root directory', () => '/', /root directory/],
    ['/proc', () => '/proc/x', /inside \/proc/],
    ['/sys', () => '/sys/kernel/x', /inside \/sys/],
    ['/dev', () => '/dev/null', /inside \/dev/],
    ['a link to /proc', () => path.join(tmp, 'proc-link/x'), /inside \/proc/],
    ['the scenario', () => path.join(scenario, 'logs'), /inside the scenario/],
    ['a report.json that is a directory', () => path.join(tmp, 'has-dir-report'), /report\.json exists and is not a regular file/],
  ])('%s', async (_name, out, why) => {
    await symlink('/proc/self', path.join(tmp, 'proc-link')).catch(() => undefined);
    const r = await bulkhead(['investigate', '--scenario', scenario, '--out', out()], NOWHERE);
    expect(r.code, r.stderr).toBe(2);
    expect(r.stderr).toMatch(/--out: /);
    expect(r.stderr).toMatch(why);
    // Refused before connecting anywhere: NOWHERE was never tried.
    expect(r.stderr).not.toContain('TEMPORAL_ADDRESS');
  });

  it('leaves an existing file as it was, and creates nothing for a valid new path', async () => {
    await expect((await import('node:fs/promises')).readFile(path.join(tmp, 'a-file'), 'utf8')).resolves.toBe('keep me\n');
    const fresh = path.join(tmp, 'new/deeper');
    expect(await validateOut(fresh, scenario)).toBe(fresh);
    await expect((await import('node:fs/promises')).stat(path.join(tmp, 'new'))).rejects.toThrow(/ENOENT/);
    expect((await (await import('node:fs/promises')).readdir(tmp)).filter((n) => n.startsWith('.bulkhead-probe'))).toEqual([]);
  });
});

/** Issue 14 item 1 / finding 9: messy runbooks never stop a scenario from loading (the agent reads them, warning about any it skips). */
describe('runbooks do not fail the scenario', () => {
  it('accepts runbooks with numbers in tags, YAML dates, CRLF, a BOM, no front matter, or binary junk', async () => {
    const dir = await broken(async (d) => {
      await writeFile(path.join(d, 'runbooks/zz-tags.md'), '---\nid: INC-9001\ntitle: t\ndate: 2026-03-15\ntags: [db, 504]\n---\nbody\n');
      await writeFile(path.join(d, 'runbooks/zz-crlf.md'), '\uFEFF---\r\nid: INC-9002\r\ntitle: crlf\r\n---\r\nbody\r\n');
      await writeFile(path.join(d, 'runbooks/zz-none.md'), '# Just a heading\n');
      await writeFile(path.join(d, 'runbooks/zz-binary.md'), Buffer.from([0, 1, 2, 3]));
    });
    const s = await loadScenario(dir);
    expect(s.sources.runbooksDir).toBe(path.join(s.dir, 'runbooks'));
  });
});

describe('report --out', () => {
  it('refuses an unusable --out before connecting', async () => {
    const r = await bulkhead(['report', 'incident-x', '--out', '/proc/x'], NOWHERE);
    expect(r.code, r.stderr).toBe(2);
    expect(r.stderr).toMatch(/--out: \/proc\/x is inside \/proc/);
  });
});

describe('live investigate --out', () => {
  it('refuses an unusable --out before anything starts', async () => {
    const r = await bulkhead(['investigate', 'checkout is slow', '--service', 'checkout-service', '--out', '/'], NOWHERE);
    expect(r.code, r.stderr).toBe(2);
    expect(r.stderr).toMatch(/--out: \/ is the root directory/);
    expect(r.stderr).not.toContain('TEMPORAL_ADDRESS');
  });
});
