import { chmodSync, copyFileSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SandboxError } from '../src/sandbox/driver';
import { LocalDriver } from '../src/sandbox/local';
import type { ResolvedPolicy } from '../src/schemas/policy';
import { hostPids } from './support/host';
import { until } from './support/until';

// Real bubblewrap, no mocks. Two sandboxes are shared by most tests to keep the run light.
const CANARY = `bulkhead-canary-${process.pid}`;
const root = mkdtempSync(path.join(os.tmpdir(), 'bh-sbtest-'));
const dataDir = mkdtempSync(path.join(os.tmpdir(), 'bh-sbdata-'));
// The sandbox runs as its own unprivileged uid: data must be world-readable, like a real logs dir.
chmodSync(dataDir, 0o755);
let driver: LocalDriver;
let allowed: http.Server;
let other: http.Server;
let allowedPort: number;
let otherPort: number;

const sh = (id: string, script: string, opts = {}) => driver.exec(id, ['/bin/sh', '-c', script], opts);
const viaProxy = (port: number) => `curl -sS --max-time 5 --noproxy '' -x "$HTTP_PROXY" http://127.0.0.1:${port}/`;

function policyFor(port: number): ResolvedPolicy {
  return {
    agent: 'log_agent',
    phase: 'run',
    readOnly: [dataDir],
    endpoints: [{ name: 'svc', host: '127.0.0.1', port, protocol: 'rest', access: 'read-only', enforcement: 'enforce', binaries: ['/usr/bin/node'] }],
  };
}

function listen(body: string): Promise<http.Server> {
  return new Promise((resolve) => {
    const s = http.createServer((_req, res) => res.end(body));
    s.listen(0, '127.0.0.1', () => resolve(s));
  });
}

async function expectError(p: Promise<unknown>, type: SandboxError['type']): Promise<void> {
  const e = await p.then(
    () => null,
    (err: unknown) => err,
  );
  expect(e).toBeInstanceOf(SandboxError);
  expect((e as SandboxError).type).toBe(type);
}

beforeAll(async () => {
  process.env.BULKHEAD_CANARY = CANARY;
  writeFileSync(path.join(dataDir, 'app.jsonl'), '{"line":"hello"}\n');
  allowed = await listen('allowed-ok');
  other = await listen('other-ok');
  allowedPort = (allowed.address() as AddressInfo).port;
  otherPort = (other.address() as AddressInfo).port;
  driver = new LocalDriver({ root });
  await Promise.all([
    driver.create({ id: 'sb-a', agent: 'log_agent', owner: 'test', readOnly: [dataDir] }),
    driver.create({ id: 'sb-b', agent: 'metrics_agent', owner: 'test', readOnly: [] }),
  ]);
  writeFileSync(path.join(root, 'sb-b', 'work', 'secret.txt'), 'b-secret');
});

afterAll(async () => {
  await driver?.close();
  allowed?.close();
  other?.close();
  delete process.env.BULKHEAD_CANARY;
  rmSync(root, { recursive: true, force: true });
  rmSync(dataDir, { recursive: true, force: true });
});

describe('local sandbox driver', () => {
  it('returns stdout, stderr and the exit code; passes stdin and per-exec env', async () => {
    const r = await sh('sb-a', 'echo out; echo err >&2; cat; echo "$FOO"; exit 3', { stdin: 'in\n', env: { FOO: 'bar' } });
    expect(r).toEqual({ exitCode: 3, stdout: 'out\nin\nbar\n', stderr: 'err\n', timedOut: false });
    const chunks: string[] = [];
    await sh('sb-a', 'echo progress >&2', { onStderr: (c: string) => chunks.push(c) });
    expect(chunks.join('')).toBe('progress\n');
    expect((await driver.exec('sb-a', ['/nonexistent/bin'])).exitCode).toBe(127);
  });

  it('creating an existing id returns it unchanged', async () => {
    await sh('sb-a', 'echo keep > marker');
    expect(await driver.create({ id: 'sb-a', agent: 'log_agent', owner: 'test', readOnly: [dataDir] })).toBe('sb-a');
    expect((await sh('sb-a', 'cat marker')).stdout).toBe('keep\n');
  });

  it('denies all network before a policy, and only the policy host:port after', async () => {
    const before = await sh('sb-a', viaProxy(allowedPort));
    expect(before.stdout).not.toContain('allowed-ok');
    // No interfaces in the namespace: going around the proxy fails outright.
    const direct = await sh('sb-a', `curl -sS --max-time 3 http://127.0.0.1:${allowedPort}/`);
    expect(direct.exitCode).not.toBe(0);
    expect((await sh('sb-a', 'echo "$NO_PROXY"')).stdout).toContain('localhost');

    await driver.applyPolicy('sb-a', policyFor(allowedPort));
    const after = await sh('sb-a', viaProxy(allowedPort));
    expect(after.stdout).toBe('allowed-ok');
    const otherPortRes = await sh('sb-a', viaProxy(otherPort));
    expect(otherPortRes.stdout).not.toContain('other-ok');
    const otherHost = await sh('sb-a', `curl -sS --max-time 5 --noproxy '' -x "$HTTP_PROXY" http://example.com/`);
    expect(otherHost.stdout).not.toContain('Example Domain');
    // The other sandbox's policy is its own.
    expect((await sh('sb-b', viaProxy(allowedPort))).stdout).not.toContain('allowed-ok');

    const denials = await driver.denials('sb-a');
    expect(denials).toContainEqual({ host: '127.0.0.1', port: otherPort, binary: null, reason: 'host is not on the allow list' });
    expect(denials).toContainEqual(expect.objectContaining({ host: 'example.com', port: 80 }));
    // One refusal, one record (srt logs several lines per refusal).
    expect(denials.filter((d) => d.port === otherPort)).toHaveLength(1);

    // Policies replace each other live: the next one drops the first endpoint.
    await driver.applyPolicy('sb-a', { ...policyFor(otherPort) });
    expect((await sh('sb-a', viaProxy(otherPort))).stdout).toBe('other-ok');
    expect((await sh('sb-a', viaProxy(allowedPort))).stdout).not.toContain('allowed-ok');
  });

  it('records refusals within bounds: a malformed host is refused unrecorded, a flood is capped', async () => {
    await driver.create({ id: 'sb-flood', agent: 'log_agent', owner: 'test', readOnly: [] });
    // 250 refused CONNECTs and one with a host that is not a host (control bytes, a space-free payload).
    const script = `
      const net = require('node:net');
      const one = (target) => new Promise((res) => {
        const s = net.connect(3128, '127.0.0.1', () => s.write('CONNECT ' + target + ' HTTP/1.1\\r\\n\\r\\n'));
        let b = ''; s.on('data', (d) => (b += d)); s.on('close', () => res(b.split('\\r\\n')[0])); s.on('error', () => res('error'));
      });
      (async () => {
        console.log(await one('\\u001b]52;c;cGF5bG9hZA==\\u0007.example:443'));
        const codes = new Set();
        for (let i = 0; i < 250; i++) codes.add(await one('h' + i + '.example.com:443'));
        console.log([...codes].join(','));
      })();`;
    const r = await driver.exec('sb-flood', ['/usr/bin/node', '-e', script], { timeoutMs: 120_000 });
    expect(r.stdout).toBe('HTTP/1.1 400 Bad Request\nHTTP/1.1 403 Forbidden\n');
    const denials = await driver.denials('sb-flood');
    expect(denials).toHaveLength(201);
    expect(denials[0]).toEqual({ host: 'h0.example.com', port: 443, binary: null, reason: 'host is not on the allow list' });
    expect(denials.at(-1)!.reason).toMatch(/^denial log full/);
    expect(JSON.stringify(denials)).not.toMatch(/52;c|\\u001b|\\u0007/);
    await driver.delete('sb-flood');
  });

  it('mounts data read-only and the workdir read-write, nothing else', async () => {
    const marker = `bh-escape-${process.pid}`;
    const r = await sh(
      'sb-a',
      `cat ${dataDir}/app.jsonl; echo x > ${dataDir}/new || echo ro-denied; echo w > ./w && cat w; ` +
        `for f in /etc/passwd /usr/${marker} /${marker}; do echo x > $f 2>/dev/null && echo "WROTE $f"; done; true`,
    );
    expect(r.stdout).toBe('{"line":"hello"}\nro-denied\nw\n');
    expect(readdirSync(dataDir)).toEqual(['app.jsonl']);
    // Read-denied host dirs (/tmp, home, the repo, the sandbox root) are private throwaway tmpfs
    // inside: writes there may succeed but never reach the host or another sandbox.
    const repo = path.resolve(import.meta.dirname, '..');
    const privateDirs = ['/tmp', '/var/tmp', os.homedir(), repo, root, path.join(root, 'sb-a')];
    await sh('sb-a', privateDirs.map((d) => `echo x > ${d}/${marker}`).join('; ') + `; mkdir -p ${root}/sb-b/work && echo x > ${root}/sb-b/work/${marker}`);
    for (const d of [...privateDirs, path.join(root, 'sb-b', 'work')]) expect(readdirSync(d)).not.toContain(marker);
    expect((await sh('sb-b', `cat /tmp/${marker}`)).exitCode).not.toBe(0);
  });

  it('hides the host home, the repo, other sandboxes, secrets and the worker env', async () => {
    const repoFile = path.resolve(import.meta.dirname, '../package.json');
    const r = await sh(
      'sb-a',
      `for f in ${os.homedir()}/.bashrc ${repoFile} ${root}/sb-b/work/secret.txt ${root}/sb-a/meta.json ${root}/sb-a/settings.json /etc/shadow; do ` +
        `cat $f >/dev/null 2>&1 && echo "READ $f"; done; ls ${os.homedir()} ${path.dirname(repoFile)} 2>/dev/null; env`,
    );
    expect(r.stdout).not.toContain('READ ');
    expect(r.stdout).not.toContain('package.json');
    expect(r.stdout).not.toContain(CANARY);
    expect((await sh('sb-a', `ls -R ${root}`)).stdout).not.toMatch(/secret\.txt|meta\.json|settings\.json|denials/);
  });

  it('kills a command (and its children) on timeout and on abort', async () => {
    const t0 = Date.now();
    const r = await sh('sb-a', 'sleep 41.5 & sleep 41.5; echo never', { timeoutMs: 300 });
    expect(r.timedOut).toBe(true);
    expect(r.stdout).toBe('');
    expect(Date.now() - t0).toBeLessThan(5000);
    await until(() => hostPids('sleep 41.5').length === 0, 10_000, 'the timed-out command to be gone');

    const ac = new AbortController();
    const p = sh('sb-a', 'sleep 42.5', { signal: ac.signal });
    setTimeout(() => ac.abort(), 100);
    await expect(p).rejects.toThrow();
    await until(() => hostPids('sleep 42.5').length === 0, 10_000, 'the aborted command to be gone');
  });

  it('uploads into the workdir only', async () => {
    const src = path.join(dataDir, 'app.jsonl');
    await driver.upload('sb-a', src, 'in/app.jsonl');
    expect((await sh('sb-a', 'cat in/app.jsonl')).stdout).toBe('{"line":"hello"}\n');
    await expectError(driver.upload('sb-a', src, '../escape'), 'PolicyRejected');
  });

  it('lists live sandboxes; a sandbox whose controller is gone is lost but deletable', async () => {
    const ids = (await driver.list()).filter((s) => s.alive).map((s) => s.id).sort();
    expect(ids).toEqual(['sb-a', 'sb-b']);

    const second = new LocalDriver({ root });
    await expectError(second.exec('sb-b', ['true']), 'SandboxLost');
    await expectError(second.exec('sb-none', ['true']), 'SandboxMissing');
    // Alive to the second driver too: its controller (this process) runs.
    expect((await second.list()).find((s) => s.id === 'sb-b')?.alive).toBe(true);
    const running = sh('sb-b', 'sleep 43.5');
    await until(async () => hostPids(`${root}/sb-b/`).length > 0, 20_000, 'the exec to start');

    await second.delete('sb-b');
    expect((await running).exitCode).not.toBe(0);
    expect(hostPids(`${root}/sb-b/`)).toEqual([]);
    expect(hostPids('sleep 43.5')).toEqual([]);
    expect(readdirSync(root)).toEqual(['sb-a']);
    await expectError(driver.exec('sb-b', ['true']), 'SandboxMissing');
    await second.delete('sb-b');
  });

  it('delete removes the directory and every process, and is idempotent', async () => {
    await driver.create({ id: 'incident-1/log_agent-1', agent: 'log_agent', owner: 'incident-1', readOnly: [] });
    const info = (await driver.list()).find((s) => s.id === 'incident-1/log_agent-1');
    expect(info).toMatchObject({ owner: 'incident-1', agent: 'log_agent', alive: true });
    const dir = readdirSync(root).find((d) => d.startsWith('incident-1_log_agent-1-'))!;
    await driver.delete('incident-1/log_agent-1');
    expect(hostPids(`${root}/${dir}/`)).toEqual([]);
    expect(readdirSync(root)).not.toContain(dir);
    await driver.delete('incident-1/log_agent-1');
    await driver.delete('never-existed');
    await expectError(driver.exec('incident-1/log_agent-1', ['true']), 'SandboxMissing');
  });

  it('preflight passes here, and refuses a host where bubblewrap cannot run, naming the cause', async () => {
    await driver.preflight();
    const broken = new LocalDriver({ root, bwrap: '/nonexistent/bwrap' });
    const e = await broken.preflight().then(
      () => null,
      (err: unknown) => err,
    );
    expect(e).toBeInstanceOf(SandboxError);
    expect((e as SandboxError).type).toBe('DriverUnavailable');
    expect((e as Error).message).toMatch(/nonexistent\/bwrap/);
    // Its throwaway sandbox is gone either way.
    expect(readdirSync(root).filter((d) => d.startsWith('preflight-'))).toEqual([]);
  });

  it('rejects a policy needing mounts the sandbox lacks', async () => {
    await expectError(driver.applyPolicy('sb-a', { ...policyFor(allowedPort), readOnly: ['/var/log'] }), 'PolicyRejected');
  });

  it('costs no process while idle: create starts nothing, each exec leaves nothing behind', async () => {
    // (Timings are `bulkhead bench`'s job; here, the structure that makes the lifecycle cheap.)
    for (let i = 0; i < 3; i++) {
      const id = `bench-${i}`;
      await driver.create({ id, agent: 'metrics_agent', owner: 'bench', readOnly: [] });
      expect(hostPids(`${root}/${id}/`)).toEqual([]);
      await driver.applyPolicy(id, { ...policyFor(allowedPort), readOnly: [] });
      expect((await driver.exec(id, ['true'])).exitCode).toBe(0);
      expect((await sh(id, 'sleep 45.5 </dev/null >/dev/null 2>&1 & echo started')).stdout).toBe('started\n');
      // The pid namespace ends with the command: its background child goes with it.
      await until(() => hostPids('sleep 45.5').length === 0, 10_000, 'the background sleep to be gone');
      await driver.delete(id);
      expect(readdirSync(root)).not.toContain(id);
    }
  });
});

describe('local sandbox identity and limits', () => {
  // Small limits so the breaches are quick; one driver with cgroups (where the host has them),
  // one forced onto the rlimit fallback.
  const limits = { memoryMb: 192, processes: 48, cpuSeconds: 2 };
  const lroot = mkdtempSync(path.join(os.tmpdir(), 'bh-sblim-'));
  const setuidDir = mkdtempSync(path.join(os.tmpdir(), 'bh-sbsuid-'));
  let cg: LocalDriver;
  let rl: LocalDriver;

  beforeAll(async () => {
    chmodSync(setuidDir, 0o755);
    // A setuid-root copy of id(1) and a root-only file, inside a data mount the sandbox may read.
    copyFileSync('/usr/bin/id', path.join(setuidDir, 'suid-id'));
    chmodSync(path.join(setuidDir, 'suid-id'), 0o4755);
    writeFileSync(path.join(setuidDir, 'root-only'), `${CANARY}-root-only\n`, { mode: 0o600 });
    cg = new LocalDriver({ root: path.join(lroot, 'cg'), limits });
    rl = new LocalDriver({ root: path.join(lroot, 'rl'), limits, cgroups: false });
    await Promise.all([
      cg.create({ id: 'lim', agent: 'log_agent', owner: 'test', readOnly: [setuidDir] }),
      rl.create({ id: 'lim', agent: 'log_agent', owner: 'test', readOnly: [setuidDir] }),
    ]);
  });
  afterAll(async () => {
    await Promise.all([cg?.close(), rl?.close()]);
    rmSync(lroot, { recursive: true, force: true });
    rmSync(setuidDir, { recursive: true, force: true });
  });

  it('runs as an unprivileged uid in a user namespace, with no capabilities and no way back to root', async () => {
    const r = await cg.exec('lim', [
      '/bin/sh',
      '-c',
      `id -u; id -g; grep -E '^(CapInh|CapPrm|CapEff|CapBnd|CapAmb|NoNewPrivs):' /proc/self/status | tr -s '\\t ' ' '; cat /proc/self/uid_map | tr -s ' '; ` +
        `${setuidDir}/suid-id -u; cat ${setuidDir}/root-only 2>/dev/null || echo root-only-denied; ` +
        `/usr/bin/mount -t tmpfs x /tmp 2>/dev/null && echo MOUNTED; su -c id 2>/dev/null && echo SU; ` +
        // A setuid binary made in the workdir: on the host it belongs to the sandbox's uid, not root.
        `cp /bin/sh ./suid-sh && chmod 4755 ./suid-sh && echo made`,
    ]);
    const host = (await cg.list()).find((s) => s.id === 'lim');
    expect(host?.alive).toBe(true);
    const lines = r.stdout.trim().split('\n');
    expect(lines.slice(0, 2)).toEqual(['1000', '1000']);
    // (CapBnd is the user namespace's own, full by definition, and out of reach: no uid 0 is
    // mapped and no_new_privs bars file capabilities; the host-side bounding set was emptied.)
    for (const cap of ['CapInh', 'CapPrm', 'CapEff', 'CapAmb']) expect(r.stdout).toContain(`${cap}: 0000000000000000`);
    expect(r.stdout).toContain('NoNewPrivs: 1');
    // The uid map: 1000 inside is a host uid that is not root.
    const map = lines.find((l) => /^ ?1000 \d+ 1$/.test(l.trim()))!;
    const hostUid = Number(map.trim().split(' ')[1]);
    expect(hostUid).toBeGreaterThan(0);
    // The setuid-root binary does not elevate (nosuid mount, no_new_privs), root-only stays closed.
    expect(lines).toContain('root-only-denied');
    expect(lines.filter((l) => l === '0')).toEqual([]);
    expect(r.stdout).not.toMatch(/MOUNTED|SU|-root-only/);
    expect(lines.at(-1)).toBe('made');
    const st = statSync(path.join(lroot, 'cg', 'lim', 'work', 'suid-sh'));
    expect(st.uid).toBe(hostUid);
    expect(st.uid).not.toBe(0);
    // Its commands run as that uid on the host.
    const ac = new AbortController();
    const running = cg.exec('lim', ['/bin/sleep', '44.5'], { signal: ac.signal }).catch(() => null);
    await until(async () => hostPids('sleep 44.5').length > 0, 20_000, 'the sleep to start');
    // (bwrap, outside the sandbox, also names the command in its argv: only the sleep itself counts.)
    const sleeps = hostPids('sleep 44.5').filter((p) => readFileSync(`/proc/${p}/cmdline`, 'utf8') === '/bin/sleep\u000044.5\u0000');
    const uids = sleeps.map((p) => Number(/^Uid:\s+(\d+)/m.exec(readFileSync(`/proc/${p}/status`, 'utf8'))![1]));
    expect(uids).toEqual([hostUid]);
    ac.abort();
    await running;
  });

  it.each(['cg', 'rl'] as const)('%s: a command that allocates past the memory limit fails with a clear reason', async (which) => {
    const d = which === 'cg' ? cg : rl;
    // 3 GB in 16 MB steps, touched so the pages are real.
    const r = await d.exec('lim', ['/usr/bin/node', '-e', 'const a=[];for(let i=0;i<192;i++){a.push(Buffer.alloc(16<<20,1))}console.log("ALLOCATED")'], { timeoutMs: 60_000 });
    expect(r.stdout).not.toContain('ALLOCATED');
    expect(r.exitCode).not.toBe(0);
    expect(r.limit?.kind).toBe('memory');
    expect(r.stderr).toContain('sandbox limit reached: memory (192 MB)');
    // The sandbox itself survives its command's breach.
    expect((await d.exec('lim', ['/bin/echo', 'ok'])).stdout).toBe('ok\n');
  });

  it.each(['cg', 'rl'] as const)('%s: a command that starts 1,500 processes is stopped at the process limit', async (which) => {
    const d = which === 'cg' ? cg : rl;
    const r = await d.exec('lim', ['/bin/sh', '-c', 'i=0; while [ $i -lt 1500 ]; do sleep 4 </dev/null >/dev/null 2>&1 & i=$((i+1)); done; echo STARTED $i'], { timeoutMs: 60_000 });
    expect(r.stdout).not.toContain('STARTED 1500');
    expect(r.limit?.kind).toBe('processes');
    expect(r.stderr).toContain('sandbox limit reached: processes (48)');
    // Once its sleeps are done, the sandbox can run again.
    await new Promise((res) => setTimeout(res, 4500));
    expect((await d.exec('lim', ['/bin/echo', 'ok'])).stdout).toBe('ok\n');
  });

  it("takes an agent's limits from its policy file when the driver is given none", async () => {
    const policyDir = mkdtempSync(path.join(os.tmpdir(), 'bh-sbpol-'));
    writeFileSync(
      path.join(policyDir, 'metrics_agent.yaml'),
      'version: 1\nagent: metrics_agent\nfilesystem: {read_only: []}\nnetwork: {endpoints: []}\nlimits: {memory_mb: 96, processes: 32}\n',
    );
    const d = new LocalDriver({ root: path.join(lroot, 'pol'), policyDir });
    try {
      await d.create({ id: 'pol', agent: 'metrics_agent', owner: 'test', readOnly: [] });
      const r = await d.exec('pol', ['/usr/bin/node', '-e', 'const a=[];for(let i=0;i<32;i++){a.push(Buffer.alloc(16<<20,1))}console.log("ALLOCATED")'], { timeoutMs: 60_000 });
      expect(r.stdout).not.toContain('ALLOCATED');
      expect(r.limit?.message).toContain('memory (96 MB)');
    } finally {
      await d.close();
      rmSync(policyDir, { recursive: true, force: true });
    }
  });

  it('a command that spins past its CPU time is killed with a clear reason', async () => {
    const r = await rl.exec('lim', ['/bin/sh', '-c', 'while :; do :; done'], { timeoutMs: 60_000 });
    expect(r.timedOut).toBe(false);
    expect(r.limit?.kind).toBe('cpu');
    expect(r.stderr).toContain('sandbox limit reached: CPU time (2 s per process)');
  });
});
