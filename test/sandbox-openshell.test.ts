import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { loadConfig } from '../src/config';
import { SandboxError, type SandboxSpec } from '../src/sandbox/driver';
import { bulkheadLabels, LABEL } from '../src/sandbox/labels';
import { OpenShellDriver, MAX_STDIN_BYTES, parseDenials, sandboxName } from '../src/sandbox/openshell';
import { createArgv, execArgv, listArgv, policySetArgv } from '../src/sandbox/openshell/argv';
import { assertRoutableTargets, isRefusedBySandboxProxy } from '../src/sandbox/openshell/loopback';
import { renderOpenShellPolicy } from '../src/sandbox/openshell/policy-yaml';
import { classify, cliFailure } from '../src/sandbox/openshell/report';
import { poolId } from '../src/sandbox/pool';
import { reapOrphans } from '../src/sandbox/reap';
import { StackDriver } from '../src/sandbox/stack';
import type { ResolvedEndpoint, ResolvedPolicy } from '../src/schemas/policy';
import { isValidSandboxName, kindBase, sandboxBase, sandboxName as incarnationName, sessionSandboxBase } from '../src/workflows/ids';

// The driver against the OpenShell stand-in (test/support/openshell-standin.mjs) first on PATH:
// it behaves as the v0.0.111 CLI and gateway do, each rule citing OpenShell's source.
const STANDIN = path.resolve(import.meta.dirname, 'support/openshell-standin.mjs');
const tmp = mkdtempSync(path.join(os.tmpdir(), 'bh-openshell-'));
const gateway = path.join(tmp, 'gateway');
const bin = path.join(tmp, 'bin');
const savedEnv = { ...process.env };
let driver: OpenShellDriver;
let ours: StackDriver;

interface Call {
  argv: string[];
  ok: boolean;
  exit: number;
  error?: string;
}
const calls = (): Call[] => {
  const f = path.join(gateway, 'calls.jsonl');
  return existsSync(f) ? readFileSync(f, 'utf8').trim().split('\n').filter(Boolean).map((l) => JSON.parse(l) as Call) : [];
};
const argvs = () => calls().map((c) => c.argv);
/** A one-shot fault the next matching CLI call meets (see the stand-in's header). */
const inject = (op: string, fault: string, n = 1) => {
  for (let i = 0; i < n; i++) writeFileSync(path.join(gateway, 'inject', `${op}.${fault}.${Date.now()}${i}`), '');
};
const standin = (args: string[], env: Record<string, string> = {}) =>
  spawnSync(STANDIN, args, { encoding: 'utf8', env: { ...process.env, ...env } });
const records = () => readdirSync(path.join(gateway, 'sandboxes')).map((f) => f.replace(/\.json$/, '')).sort();

async function rejection(p: Promise<unknown>): Promise<SandboxError> {
  const e = await p.then(() => null, (err: unknown) => err);
  expect(e).toBeInstanceOf(SandboxError);
  return e as SandboxError;
}

const ep = (over: Partial<ResolvedEndpoint>): ResolvedEndpoint => ({
  name: 'model', host: 'vllm-api', port: 8000, protocol: 'rest', access: 'read-write', enforcement: 'enforce', binaries: ['/usr/bin/node'], ...over,
});
const STACK = 'stack-a';
const id = incarnationName(sandboxBase('metrics_agent', 'incident-INC-1/metrics_agent-1', 'run-1'), 0);
const spec = (sid: string, over: Partial<SandboxSpec> = {}): SandboxSpec => ({ id: sid, agent: 'metrics_agent', owner: 'incident-INC-1/metrics_agent-1', readOnly: ['/data/incident/logs'], ...over });
const policy = (phase: 'install' | 'run', endpoints: ResolvedEndpoint[]): ResolvedPolicy => ({ agent: 'metrics_agent', phase, endpoints, readOnly: [] });

beforeAll(() => {
  mkdirSync(bin);
  symlinkSync(STANDIN, path.join(bin, 'openshell'));
  symlinkSync('/usr/bin/ssh', path.join(bin, 'ssh'));
  // Only our bin and node's: `ssh` is present exactly when the test says so.
  process.env.PATH = `${bin}:${path.dirname(process.execPath)}:/usr/bin:/bin`;
  process.env.OPENSHELL_STANDIN_DIR = gateway;
  delete process.env.BULKHEAD_OPENSHELL_BIN;
  delete process.env.RUST_LOG;
  driver = new OpenShellDriver({ workdir: path.join(tmp, 'driver') });
  ours = new StackDriver(driver, STACK);
});
beforeEach(() => rmSync(path.join(gateway, 'calls.jsonl'), { force: true }));
afterAll(() => {
  process.env = savedEnv;
  rmSync(tmp, { recursive: true, force: true });
});

describe('sandbox names', () => {
  it('fit OpenShell for every kind: at most 19 of [a-z0-9-], no "--", distinct per run', () => {
    const names = [
      ...(['metrics_agent', 'log_agent', 'runbook_agent'] as const).flatMap((a) => [0, 2].map((n) => incarnationName(sandboxBase(a, 'incident-a-very-long-incident-identifier-from-alertmanager/log_agent-12', 'r'), n))),
      incarnationName(sessionSandboxBase('work-wrk_01ABCDEF', 'run'), 0),
      poolId('log_agent'), poolId('metrics_agent'), poolId('session'),
      incarnationName(kindBase('c', 'x'), 0), incarnationName(kindBase('b', 'y'), 0),
    ];
    for (const n of names) {
      expect(n.length, n).toBeLessThanOrEqual(19);
      expect(isValidSandboxName(n), n).toBe(true);
    }
    const many = new Set(Array.from({ length: 20_000 }, (_, i) => sandboxBase('log_agent', `incident-${i}/log_agent-1`, 'run')));
    expect(many.size).toBe(20_000);
    expect(sandboxBase('log_agent', 'w', 'run-1')).not.toBe(sandboxBase('log_agent', 'w', 'run-2'));
  });

  it('the gateway refuses the old 21-25 character names with its own wording, and the driver does not retry', async () => {
    const r = standin(['sandbox', 'create', '--name', 'bh-metrics-1a2b3c4d-0', '--detach', '--', 'sleep', 'infinity']);
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/^Error: {3}× code: 'Client specified an invalid argument', message: "name exceeds/);
    expect(cliFailure(r.stderr)).toBe(`code: 'Client specified an invalid argument', message: "name exceeds maximum length (21 > 19)"`);
    expect(standin(['sandbox', 'create', '--name', 'bh--x', '--', 'sleep', '1']).stderr).toContain('consecutive hyphens');
    // Read back as the driver reads it: a permanent create failure, not one to retry for minutes.
    const e = classify('create', 'bh-metrics-1a2b3c4d-0', cliFailure(r.stderr)!);
    expect([e.type, e.retryable]).toEqual(['SandboxCreateFailed', false]);
    // And an id that is no valid name (a test's, an operator's) maps to a stable valid one.
    expect(isValidSandboxName(sandboxName('incident-INC-1/log_agent-1'))).toBe(true);
    expect(sandboxName('incident-INC-1/log_agent-1')).toBe(sandboxName('incident-INC-1/log_agent-1'));
  });
});

describe('OpenShellDriver against the stand-in', () => {
  it('creates deny-all with its labels on the gateway, listed back by a driver with no local state', async () => {
    expect(await ours.create(spec(id))).toBe(id);
    const create = argvs().find((a) => a[1] === 'create')!;
    expect(create).toEqual(createArgv(id, create[5]!, { labels: bulkheadLabels(STACK, 'incident-INC-1/metrics_agent-1', 'metrics_agent') }));
    const fresh = new StackDriver(new OpenShellDriver({ workdir: path.join(tmp, 'elsewhere') }), STACK);
    const [info] = await fresh.list();
    expect(info).toMatchObject({ id, agent: 'metrics_agent', owner: 'incident-INC-1.metrics_agent-1', alive: true });
    expect(info!.labels[LABEL.stack]).toBe(STACK);
    expect(Date.parse(info!.createdAt!)).toBeGreaterThan(Date.now() - 120_000);
    // A retried create of a Ready sandbox that is ours adopts it.
    expect(await ours.create(spec(id))).toBe(id);
  });

  it('writes a policy that starts under hard_requirement: only paths the image has, never the worker\'s data mounts', async () => {
    const doc = parse(renderOpenShellPolicy({}));
    expect(doc.landlock).toEqual({ compatibility: 'hard_requirement' });
    expect(doc.filesystem_policy.read_only).not.toContain('/lib64');
    expect(doc.filesystem_policy.read_only).not.toContain('/data/incident/logs');
    expect(doc.network_policies).toBeUndefined();
    // A path absent from the image: Error phase, the record removed by the driver, no retry.
    const strict = new OpenShellDriver({ workdir: path.join(tmp, 'd2'), imagePaths: ['/srv/not-in-image'] });
    const e = await rejection(strict.create(spec(incarnationName(kindBase('c', 'strict'), 0))));
    expect([e.type, e.retryable]).toEqual(['SandboxCreateFailed', false]);
    expect(e.message).toContain("failed to open path '/srv/not-in-image'");
    expect(records()).toEqual([id]);
  });

  it('replaces a create that reached the Error phase (the record stays on the gateway) and never adopts it', async () => {
    const sid = incarnationName(kindBase('l', 'error-phase'), 0);
    inject('create', 'error-phase');
    const e = await rejection(ours.create(spec(sid)));
    expect([e.type, e.retryable]).toEqual(['SandboxCreateFailed', true]);
    expect(records()).not.toContain(sid);
    // A failed record left by someone (a crash between create and delete): replaced, not adopted.
    inject('create', 'error-phase');
    const leftover = standin(['sandbox', 'create', '--name', sid, ...Object.entries(bulkheadLabels(STACK, 'incident-INC-1/metrics_agent-1', 'metrics_agent')).flatMap(([k, v]) => ['--label', `${k}=${v}`]), '--', 'sleep', 'infinity']);
    expect(leftover.status).toBe(1);
    expect((await ours.list()).find((s) => s.id === sid)).toMatchObject({ alive: false });
    expect(await ours.create(spec(sid))).toBe(sid);
    expect((await ours.list()).find((s) => s.id === sid)).toMatchObject({ alive: true });
    // Once after the failed create, once for the failed record found on the next one.
    expect(argvs().filter((a) => a[1] === 'delete')).toEqual([['sandbox', 'delete', sid], ['sandbox', 'delete', sid]]);
    await ours.delete(sid);
  });

  it('execs with --env, stdin and the command\'s own exit code, even a command printing "Error:"', async () => {
    const r = await driver.exec(id, ['/bin/sh', '-c', 'cat; echo " $GREETING"; echo "Error: boom" >&2; exit 1'], { stdin: 'hello', env: { GREETING: 'hi there' } });
    expect(r).toEqual({ exitCode: 1, stdout: 'hello hi there\n', stderr: 'Error: boom\n', timedOut: false });
    expect(argvs()[0]).toEqual(execArgv(id, ['/bin/sh', '-c', 'cat; echo " $GREETING"; echo "Error: boom" >&2; exit 1'], { env: { GREETING: 'hi there' } }));
    expect(argvs()[0]).toContain('--env');
    const t = await driver.exec(id, ['sleep', '5'], { timeoutMs: 1000 });
    expect([t.exitCode, t.timedOut]).toEqual([124, true]);
    const own = await driver.exec(id, ['/bin/sh', '-c', 'exit 124']);
    expect([own.exitCode, own.timedOut]).toEqual([124, false]);
  });

  it('tells the CLI\'s own exit 1 apart by its Error: report', async () => {
    let e = await rejection(driver.exec(incarnationName(kindBase('m', 'missing'), 0), ['true']));
    expect([e.type, e.retryable]).toEqual(['SandboxMissing', false]);
    inject('exec', 'unavailable');
    e = await rejection(driver.exec(id, ['true']));
    expect([e.type, e.retryable]).toEqual(['DriverUnavailable', true]);
    inject('exec', 'deadline');
    e = await rejection(driver.exec(id, ['true']));
    expect([e.type, e.retryable]).toEqual(['DriverUnavailable', true]);
    expect(e.message).toContain('Deadline expired before operation could complete');
    e = await rejection(driver.exec(id, ['cat'], { stdin: 'x'.repeat(MAX_STDIN_BYTES + 1) }));
    expect([e.type, e.retryable]).toEqual(['DriverUnavailable', false]);
    // A sandbox in Error will run nothing again: lost (the workflow replaces it), not retried.
    const sid = incarnationName(kindBase('r', 'dead'), 0);
    inject('create', 'error-phase');
    standin(['sandbox', 'create', '--name', sid, '--', 'sleep', 'infinity']);
    e = await rejection(driver.exec(sid, ['true']));
    expect([e.type, e.retryable]).toEqual(['SandboxLost', false]);
    await driver.delete(sid);
    expect(cliFailure('Error:   × sandbox \'x\' is not ready (phase: Error); wait for it\n  │ to reach Ready state\n')).toBe("sandbox 'x' is not ready (phase: Error); wait for it to reach Ready state");
  });

  it('applies each policy as one revision with exactly the access asked for', async () => {
    const REGISTRY = ep({ name: 'registry', host: 'registry.npmjs.org', port: 443, access: 'read-only' });
    // The model first read-only (install), then read-write (run): a merge would keep read-only.
    await driver.applyPolicy(id, policy('install', [REGISTRY, ep({ access: 'read-only' })]));
    await driver.applyPolicy(id, policy('run', [ep({}), ep({ name: 'prometheus', host: 'prom', port: 9090, access: 'read-only' })]));
    const sets = argvs().filter((a) => a[0] === 'policy');
    expect(sets).toHaveLength(2);
    expect(sets.every((a) => a[1] === 'set' && a.includes('--wait'))).toBe(true);
    expect(sets[1]).toEqual(policySetArgv(id, sets[1]![4]!));
    const rec = JSON.parse(readFileSync(path.join(gateway, 'sandboxes', `${id}.json`), 'utf8'));
    expect(rec.version).toBe(3);
    expect(rec.policy.network_policies).toEqual({
      model: { name: 'model', endpoints: [{ host: 'vllm-api', port: 8000, protocol: 'rest', enforcement: 'enforce', access: 'read-write' }], binaries: [{ path: '/usr/bin/node' }] },
      prometheus: { name: 'prometheus', endpoints: [{ host: 'prom', port: 9090, protocol: 'rest', enforcement: 'enforce', access: 'read-only' }], binaries: [{ path: '/usr/bin/node' }] },
    });
  });

  const host = Object.values(os.networkInterfaces()).flat().find((a) => a?.family === 'IPv4' && !a.internal)?.address;
  it.skipIf(!host)('runs commands behind a proxy that enforces the live policy, refuses loopback, and reports denials', async () => {
    const server = http.createServer((_q, r) => r.end('ok')).listen(0, host);
    await new Promise((r) => server.once('listening', r));
    const port = (server.address() as AddressInfo).port;
    try {
      await driver.applyPolicy(id, policy('run', [ep({ name: 'prometheus', host, port, access: 'read-only' })]));
      // Loopback cannot be in a policy this driver sets; put it there behind its back to show the proxy refuses it anyway.
      expect(standin(['policy', 'update', id, '--add-endpoint', `127.0.0.1:${port}`, '--wait']).status).toBe(0);
      const connect = (target: string) => `require('http').request({host:new URL(process.env.HTTPS_PROXY).hostname,port:new URL(process.env.HTTPS_PROXY).port,method:'CONNECT',path:'${target}'}).on('connect',(r)=>{console.log('${target}',r.statusCode);process.exit(0)}).end()`;
      const ok = await driver.exec(id, ['node', '-e', connect(`${host}:${port}`)]);
      expect(ok.stdout).toBe(`${host}:${port} 200\n`);
      const both = await driver.exec(id, ['node', '-e', `${connect(`${host}:1`)}`]);
      expect(both.stdout).toBe(`${host}:1 403\n`);
      const lo = await driver.exec(id, ['node', '-e', `${connect(`127.0.0.1:${port}`)}`]);
      expect(lo.stdout).toBe(`127.0.0.1:${port} 403\n`);
      const denials = await driver.denials(id);
      expect(denials).toEqual(expect.arrayContaining([
        { host, port: 1, binary: 'node', reason: 'no matching network policy' },
        { host: '127.0.0.1', port, binary: 'node', reason: 'always-blocked destination (loopback/link-local)' },
      ]));
    } finally {
      server.close();
    }
  });

  it('maps policy outcomes: failed to load is permanent; timeout, unavailable and deadline are retried', async () => {
    const run = policy('run', [ep({ name: 'loki', host: 'loki', port: 3100 })]);
    inject('policy', 'policy-failed');
    let e = await rejection(driver.applyPolicy(id, run));
    expect([e.type, e.retryable]).toEqual(['PolicyRejected', false]);
    for (const fault of ['policy-timeout', 'unavailable', 'deadline']) {
      inject('policy', fault);
      e = await rejection(driver.applyPolicy(id, run));
      expect([fault, e.retryable]).toEqual([fault, true]);
    }
    await driver.applyPolicy(id, run);
  });

  it('refuses a loopback endpoint (the sandbox proxy always would), and a loopback setting at start-up', async () => {
    const e = await rejection(driver.applyPolicy(id, policy('run', [ep({ name: 'prometheus', host: '127.0.0.1', port: 9090 })])));
    expect([e.type, e.retryable]).toEqual(['PolicyRejected', false]);
    expect(['localhost', '127.0.0.1', '::1', '[::1]', '169.254.169.254', '0.0.0.0'].every(isRefusedBySandboxProxy)).toBe(true);
    expect(['prometheus', '10.0.0.5', 'bulkhead-worker.bulkhead.svc'].some(isRefusedBySandboxProxy)).toBe(false);
    expect(() => assertRoutableTargets(loadConfig({ PROMETHEUS_URL: 'http://127.0.0.1:9090' }))).toThrow(/^PROMETHEUS_URL: .*loopback/);
    expect(() => assertRoutableTargets(loadConfig({ BULKHEAD_DISPATCH_HOST: 'localhost' }))).toThrow(/^BULKHEAD_DISPATCH_HOST: /);
    expect(() => assertRoutableTargets(loadConfig({ PROMETHEUS_URL: 'http://prometheus:9090', BULKHEAD_DISPATCH_HOST: 'bulkhead-worker' }))).not.toThrow();
  });

  it('lists every page, whatever the CLI prints on stdout, and never takes a warning for a sandbox', async () => {
    process.env.OPENSHELL_STANDIN_WARN = '1';
    try {
      // The stand-in warns on stdout as the real CLI does, unless RUST_LOG=error.
      expect(standin(['sandbox', 'list', '--names']).stdout).toMatch(/WARN openshell_cli/);
      expect(standin(['sandbox', 'list', '--names'], { RUST_LOG: 'error' }).stdout).not.toMatch(/WARN/);
      const labels = bulkheadLabels(STACK, 'bulk', 'log_agent');
      for (let i = 0; i < 130; i++) {
        const name = `bh-l-${String(i).padStart(12, '0')}-0`;
        writeFileSync(path.join(gateway, 'sandboxes', `${name}.json`), JSON.stringify({ id: `x${i}`, name, workspace: 'default', labels, createdAtMs: Date.now() - 1000 + i, phase: 'Ready', version: 1 }));
      }
      const listed = await ours.list();
      expect(listed).toHaveLength(131);
      expect(listed.every((s) => isValidSandboxName(s.id))).toBe(true);
      expect(argvs().filter((a) => a[1] === 'list' && a.includes('-o'))).toEqual([listArgv({ limit: 100, offset: 0, selector: `${LABEL.managedBy}=bulkhead` }), listArgv({ limit: 100, offset: 100, selector: `${LABEL.managedBy}=bulkhead` })]);
      const r = await driver.exec(id, ['echo', '{"ok":true}']);
      expect(r.stdout).toBe('{"ok":true}\n');
    } finally {
      delete process.env.OPENSHELL_STANDIN_WARN;
      for (const f of readdirSync(path.join(gateway, 'sandboxes'))) if (f.startsWith('bh-l-0000')) rmSync(path.join(gateway, 'sandboxes', f));
    }
  });

  it('reaps only what carries Bulkhead\'s labels and this stack\'s identity', async () => {
    // A colleague's sandbox on the shared gateway, and another stack's live one.
    expect(standin(['sandbox', 'create', '--name', 'alice-dev', '--', 'sleep', 'infinity']).status).toBe(0);
    const theirs = new StackDriver(driver, 'stack-b');
    const otherId = incarnationName(kindBase('l', 'other-stack'), 0);
    await theirs.create(spec(otherId, { agent: 'log_agent' }));
    // No workflow runs: every one of OUR workflow sandboxes is an orphan.
    const client = { workflow: { list: async function* () {} } } as unknown as Parameters<typeof reapOrphans>[1];
    // Even handed the raw driver (everything on the gateway), the reaper keeps to its own.
    const r = await reapOrphans(driver, client, 0, STACK);
    expect(r.deleted).toEqual([id]);
    expect(records()).toEqual(['alice-dev', otherId].sort());
    expect(await reapOrphans(driver, client, 0)).toEqual({ deleted: [], kept: expect.arrayContaining([otherId]) });
    await theirs.delete(otherId);
    expect(standin(['sandbox', 'delete', 'alice-dev']).status).toBe(0);
  });

  it('deletes idempotently: a name the gateway does not know is gone already', async () => {
    await driver.delete(id);
    const r = standin(['sandbox', 'delete', id]);
    expect([r.status, r.stderr]).toEqual([1, expect.stringContaining('message: "sandbox not found"')]);
    await driver.delete(id);
  });

  it('checks its prerequisites at start-up: the CLI\'s protocol line and an ssh client', async () => {
    await driver.preflight();
    process.env.OPENSHELL_STANDIN_VERSION = '0.1.2';
    try {
      const e = await rejection(new OpenShellDriver({ workdir: tmp }).preflight());
      expect([e.type, e.retryable]).toEqual(['DriverUnavailable', false]);
      expect(e.message).toMatch(/0\.1\.x/);
    } finally {
      delete process.env.OPENSHELL_STANDIN_VERSION;
    }
    rmSync(path.join(bin, 'ssh'));
    try {
      const nodeOnly = path.join(tmp, 'node-only');
      mkdirSync(nodeOnly, { recursive: true });
      if (!existsSync(path.join(nodeOnly, 'node'))) symlinkSync(process.execPath, path.join(nodeOnly, 'node'));
      const noSsh = new OpenShellDriver({ workdir: tmp, env: { ...process.env, PATH: `${bin}:${nodeOnly}` } });
      let e = await rejection(noSsh.preflight());
      expect(e.message).toMatch(/ssh client/);
      e = await rejection(noSsh.upload('any', STANDIN, 'x'));
      expect([e.type, e.retryable]).toEqual(['DriverUnavailable', false]);
    } finally {
      symlinkSync('/usr/bin/ssh', path.join(bin, 'ssh'));
    }
  });

  it('retries an exec that meets a sandbox still Provisioning', async () => {
    const sid = incarnationName(kindBase('m', 'provisioning'), 0);
    writeFileSync(path.join(gateway, 'sandboxes', `${sid}.json`), JSON.stringify({ id: 'p1', name: sid, workspace: 'default', labels: {}, createdAtMs: Date.now(), phase: 'Provisioning', version: 1 }));
    const e = await rejection(driver.exec(sid, ['true']));
    expect([e.type, e.retryable]).toEqual(['DriverUnavailable', true]);
    expect(e.message).toContain('is not ready (phase: Provisioning)');
    await driver.delete(sid);
  });

  it("the stand-in's `policy update` merges as OpenShell's does: an existing rule keeps its access (why the driver uses `policy set`)", () => {
    const sid = incarnationName(kindBase('m', 'merge'), 0);
    expect(standin(['sandbox', 'create', '--name', sid, '--', 'sleep', 'infinity']).status).toBe(0);
    expect(standin(['policy', 'update', sid, '--add-endpoint', 'vllm-api:8000:read-only:rest:enforce', '--binary', '/usr/bin/node', '--wait']).status).toBe(0);
    expect(standin(['policy', 'update', sid, '--add-endpoint', 'vllm-api:8000:read-write:rest:enforce', '--binary', '/usr/bin/curl', '--wait']).status).toBe(0);
    const rec = JSON.parse(readFileSync(path.join(gateway, 'sandboxes', `${sid}.json`), 'utf8'));
    expect(rec.policy.network_policies.allow_vllm_api_8000).toEqual({
      name: 'allow_vllm_api_8000',
      endpoints: [{ host: 'vllm-api', port: 8000, access: 'read-only', protocol: 'rest', enforcement: 'enforce' }],
      binaries: [{ path: '/usr/bin/node' }, { path: '/usr/bin/curl' }],
    });
    expect(standin(['sandbox', 'delete', sid]).status).toBe(0);
  });

  it('never broke the contract', () => {
    expect(calls().filter((c) => !c.ok)).toEqual([]);
  });
});

describe('parseDenials', () => {
  it('reads OCSF shorthand, with and without an actor', () => {
    expect(parseDenials('[1.0] [sandbox] [OCSF ] [ocsf] NET:OPEN [MED] DENIED /usr/bin/curl(68) -> host:443 [policy:- engine:opa] [reason:no rule]\n')).toEqual([{ host: 'host', port: 443, binary: '/usr/bin/curl', reason: 'no rule' }]);
    expect(parseDenials('NET:OPEN [INFO] ALLOWED node(1) -> a:1 [policy:p engine:opa]\n')).toEqual([]);
  });
});

describe('`bulkhead worker` start-up under BULKHEAD_SANDBOX=openshell', () => {
  const worker = (env: Record<string, string>) =>
    spawnSync(process.execPath, [path.resolve(import.meta.dirname, '../bin/bulkhead.mjs'), 'worker'], {
      encoding: 'utf8',
      timeout: 60_000,
      // Port 1: nothing listens; every check below must fail before any connection is tried.
      env: { PATH: process.env.PATH, HOME: tmp, TEMPORAL_ADDRESS: '127.0.0.1:1', BULKHEAD_SANDBOX: 'openshell', BULKHEAD_OPENSHELL_BIN: STANDIN, OPENSHELL_STANDIN_DIR: gateway, ...env },
    });

  it('refuses a source on loopback, naming the setting (exit 2)', () => {
    const r = worker({ PROMETHEUS_URL: 'http://127.0.0.1:9090' });
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/^bulkhead: PROMETHEUS_URL: http:\/\/127\.0\.0\.1:9090 is a loopback\/link-local address, which OpenShell's sandbox proxy always refuses/m);
  });

  it('refuses a CLI of the wrong protocol line, or a host without ssh, with a clear message (exit 2)', () => {
    let r = worker({ OPENSHELL_STANDIN_VERSION: '0.1.0' });
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/^bulkhead: BULKHEAD_SANDBOX: openshell driver prerequisites: openshell 0\.1\.0 found; this driver speaks the 0\.0\.x gRPC protocol/m);
    const nodeOnly = path.join(tmp, 'node-only-2');
    mkdirSync(nodeOnly, { recursive: true });
    symlinkSync(process.execPath, path.join(nodeOnly, 'node'));
    r = worker({ PATH: nodeOnly });
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/ssh client on the worker host/);
  });
});
