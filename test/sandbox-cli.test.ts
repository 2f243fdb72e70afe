import { execFile } from 'node:child_process';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REPO_ROOT } from '../src/stack/tools';
import { standIn } from './support/host';

const run = promisify(execFile);
const BIN = path.join(REPO_ROOT, 'bin/bulkhead.mjs');

describe('`bulkhead sandbox run` and `list`, as an operator runs them', () => {
  let root: string;
  let prometheus: Awaited<ReturnType<typeof standIn>>;
  let env: Record<string, string>;
  beforeAll(async () => {
    root = await mkdtemp(path.join(tmpdir(), 'bh-cli-sandboxes-'));
    prometheus = await standIn('prometheus-ok');
    env = { PATH: process.env.PATH!, HOME: process.env.HOME!, BULKHEAD_SANDBOX_ROOT: root, PROMETHEUS_URL: prometheus.url };
  });
  afterAll(async () => {
    prometheus?.close();
    await rm(root, { recursive: true, force: true });
  });

  async function bulkhead(args: string[]) {
    try {
      const r = await run(process.execPath, [BIN, ...args], { env, timeout: 60_000 });
      return { code: 0, stdout: r.stdout, stderr: r.stderr };
    } catch (e) {
      const err = e as { code: number; stdout: string; stderr: string };
      return { code: err.code, stdout: err.stdout, stderr: err.stderr };
    }
  }

  it("runs a command under the log agent's policy, prints what it refused, and deletes the sandbox", async () => {
    const viaProxy = (url: string) => `curl -sS --max-time 5 --noproxy '' -x "$HTTP_PROXY" -o /dev/null ${url}`;
    // Prometheus is configured (the metrics agent's endpoint), yet not the log agent's to reach.
    const script = `echo inside; ${viaProxy(`${prometheus.url}/api/v1/query`)}; ${viaProxy('https://example.com/')}`;
    const r = await bulkhead(['sandbox', 'run', '--agent', 'log_agent', '--', '/bin/sh', '-c', script]);
    expect(r.stdout).toBe('inside\n');
    // curl's own exit code (56: the proxy refused the tunnel) is the command's.
    expect(r.code).toBe(56);
    expect(r.stderr).toMatch(/sandbox bh-c-[0-9a-z]{12}-0 \(local\), policy log_agent: no network/);
    expect(r.stderr).toContain(`refused: 127.0.0.1:${prometheus.port}: host is not on the allow list`);
    expect(r.stderr).toContain('refused: example.com:443: host is not on the allow list');
    expect(r.stderr).toMatch(/sandbox bh-c-[0-9a-z]{12}-0 deleted/);

    expect(await readdir(root)).toEqual([]);
    const list = await bulkhead(['sandbox', 'list']);
    expect(list).toMatchObject({ code: 0, stdout: 'no sandboxes\n' });
  });

  it('the metrics agent reaches the same Prometheus: its policy, not the command, decides', async () => {
    const r = await bulkhead(['sandbox', 'run', '--agent', 'metrics_agent', '--', '/bin/sh', '-c', `curl -sS --max-time 5 --noproxy '' -x "$HTTP_PROXY" ${prometheus.url}/`]);
    expect(r).toMatchObject({ code: 0, stdout: 'prometheus-ok' });
    expect(r.stderr).not.toContain('refused:');
    expect(await readdir(root)).toEqual([]);
  });
});
