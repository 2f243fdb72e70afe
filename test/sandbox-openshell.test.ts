import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { SandboxError, type SandboxSpec } from '../src/sandbox/driver';
import { OpenShellDriver, parseDenials, sandboxName } from '../src/sandbox/openshell';
import { addEndpointsArgv, createArgv, endpointSpec, execArgv, removeEndpointsArgv, uploadArgv } from '../src/sandbox/openshell/argv';
import { renderOpenShellPolicy } from '../src/sandbox/openshell/policy-yaml';
import { loadPolicy, resolvePolicy } from '../src/sandbox/policy';
import type { ResolvedEndpoint, ResolvedPolicy } from '../src/schemas/policy';

// The driver against a fake `openshell` first on PATH, which checks every argv against the
// contract and records it. Nothing here reaches a real gateway.
const FAKE = path.resolve(import.meta.dirname, 'support/fake-openshell.mjs');
const tmp = mkdtempSync(path.join(os.tmpdir(), 'bh-openshell-'));
const logFile = path.join(tmp, 'calls.jsonl');
const scriptFile = path.join(tmp, 'script.json');
const stateDir = path.join(tmp, 'driver');
const savedEnv = { ...process.env };
let driver: OpenShellDriver;

interface Call {
  argv: string[];
  ok: boolean;
  exit: number;
  error?: string;
}

function calls(): Call[] {
  if (!existsSync(logFile)) return [];
  return readFileSync(logFile, 'utf8').trim().split('\n').filter(Boolean).map((l) => JSON.parse(l) as Call);
}
const argvs = () => calls().map((c) => c.argv);
const script = (s: object) => writeFileSync(scriptFile, JSON.stringify(s));

async function rejection(p: Promise<unknown>): Promise<SandboxError> {
  const e = await p.then(() => null, (err: unknown) => err);
  expect(e).toBeInstanceOf(SandboxError);
  return e as SandboxError;
}

const ep = (over: Partial<ResolvedEndpoint>): ResolvedEndpoint => ({
  name: 'model', host: 'vllm-api', port: 8000, protocol: 'rest', access: 'read-write', enforcement: 'enforce', binaries: ['/usr/bin/node'], ...over,
});
const spec = (id: string): SandboxSpec => ({ id, agent: 'metrics_agent', owner: 'incident-INC-1', readOnly: [] });
const REGISTRY = ep({ name: 'registry', host: 'registry.npmjs.org', port: 443, access: 'read-only', binaries: ['/usr/bin/npm', '/usr/bin/node'] });
const MODEL = ep({});
const PROM = ep({ name: 'prometheus', host: 'prom', port: 9090, access: 'read-only' });
const policy = (phase: 'install' | 'run', endpoints: ResolvedEndpoint[]): ResolvedPolicy => ({ agent: 'metrics_agent', phase, endpoints, readOnly: [] });

beforeAll(() => {
  const bin = path.join(tmp, 'bin');
  mkdirSync(bin);
  symlinkSync(FAKE, path.join(bin, 'openshell'));
  process.env.PATH = `${bin}:${process.env.PATH}`;
  process.env.FAKE_OPENSHELL_LOG = logFile;
  process.env.FAKE_OPENSHELL_STATE = path.join(tmp, 'fake-state', 'state.json');
  process.env.FAKE_OPENSHELL_SCRIPT = scriptFile;
  delete process.env.BULKHEAD_OPENSHELL_BIN;
  mkdirSync(path.join(tmp, 'fake-state'));
  driver = new OpenShellDriver({ workdir: stateDir });
});

beforeEach(() => {
  rmSync(logFile, { force: true });
  script({});
});

afterAll(() => {
  process.env = savedEnv;
  rmSync(tmp, { recursive: true, force: true });
});

describe('argv contract (pure)', () => {
  it('builds each operation exactly as DESIGN.md section 3 says', () => {
    expect(createArgv('sb', '/p.yaml')).toEqual(['sandbox', 'create', '--name', 'sb', '--policy', '/p.yaml', '--detach', '--', 'sleep', 'infinity']);
    expect(createArgv('sb', '/p.yaml', 'img:1')).toEqual(['sandbox', 'create', '--name', 'sb', '--policy', '/p.yaml', '--from', 'img:1', '--detach', '--', 'sleep', 'infinity']);
    expect(execArgv('sb', ['node', 'a.js'], { timeoutSeconds: 30, env: { A: '1' } })).toEqual(['sandbox', 'exec', '-n', 'sb', '--timeout', '30', '--', 'env', 'A=1', 'node', 'a.js']);
    expect(execArgv('sb', ['ls'])).toEqual(['sandbox', 'exec', '-n', 'sb', '--', 'ls']);
    expect(() => execArgv('sb', ['ls'], { env: { '-u': 'x' } })).toThrow(/invalid environment variable name/);
    expect(uploadArgv('sb', '/a', 'b')).toEqual(['sandbox', 'upload', 'sb', '/a', 'b', '--no-git-ignore']);
    expect(endpointSpec(MODEL)).toBe('vllm-api:8000:read-write:rest:enforce');
    expect(endpointSpec(ep({ protocol: 'tcp' }))).toBe('vllm-api:8000');
    expect(() => endpointSpec(ep({ host: '::1' }))).toThrow(/IPv6/);
    expect(addEndpointsArgv('sb', [REGISTRY])).toEqual([
      'policy', 'update', 'sb', '--add-endpoint', 'registry.npmjs.org:443:read-only:rest:enforce', '--binary', '/usr/bin/npm', '--binary', '/usr/bin/node', '--wait',
    ]);
    expect(removeEndpointsArgv('sb', [REGISTRY])).toEqual(['policy', 'update', 'sb', '--remove-endpoint', 'registry.npmjs.org:443', '--wait']);
  });

  it('maps workflow-style ids to valid, stable sandbox names', () => {
    const n = sandboxName('incident-INC-1/log_agent-1');
    expect(n).toMatch(/^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/);
    expect(sandboxName('incident-INC-1/log_agent-1')).toBe(n);
    expect(sandboxName('incident-INC-1/log-agent-1')).not.toBe(n);
    expect(sandboxName('plain-name-1')).toBe('plain-name-1');
  });
});

describe('the fake enforces the contract', () => {
  const fake = (...args: string[]) => spawnSync(FAKE, args, { encoding: 'utf8', env: process.env });
  it('rejects what the real CLI rejects', () => {
    const policyFile = path.join(tmp, 'p.yaml');
    writeFileSync(policyFile, renderOpenShellPolicy({ readOnly: [] }));
    // clap: --output conflicts with a trailing command, which is why create has no -o json.
    let r = fake('sandbox', 'create', '--name', 'x', '--policy', policyFile, '-o', 'json', '--detach', '--', 'sleep', 'infinity');
    expect(r.status).toBe(2);
    expect(r.stderr).toContain("cannot be used with '[COMMAND]...'");
    r = fake('sandbox', 'exec', '-n', 'x', '--user', 'root', '--', 'ls');
    expect([r.status, r.stderr]).toEqual([2, expect.stringContaining("unexpected argument '--user'")]);
    r = fake('sandbox', 'frobnicate');
    expect(r.status).toBe(2);
    r = fake('policy', 'update', 'x', '--add-endpoint', 'h:443:write-ish', '--wait');
    expect([r.status, r.stderr]).toEqual([1, expect.stringContaining('access segment must be one of')]);
    r = fake('policy', 'update', 'x', '--add-endpoint', 'h:443:read-only:tcp', '--wait');
    expect(r.stderr).toContain("protocol 'tcp' does not support access");
    r = fake('policy', 'update', 'x', '--binary', '/usr/bin/node', '--wait');
    expect(r.stderr).toContain('--binary can only be used with --add-endpoint');
    expect(calls().every((c) => !c.ok)).toBe(true);
  });
});

describe('OpenShellDriver lifecycle against the fake CLI', () => {
  const id = 'incident-INC-1/metrics_agent-1';
  const name = sandboxName(id);

  it('creates deny-all with a detached main process, idempotently', async () => {
    expect(await driver.create(spec(id))).toBe(name);
    const policyFile = path.join(stateDir, 'policies', `${name}.yaml`);
    expect(argvs()).toEqual([
      ['sandbox', 'list', '--names'],
      ['sandbox', 'create', '--name', name, '--policy', policyFile, '--detach', '--', 'sleep', 'infinity'],
    ]);
    const doc = parse(readFileSync(policyFile, 'utf8'));
    expect(doc.network_policies).toBeUndefined();
    expect(doc.landlock).toEqual({ compatibility: 'hard_requirement' });

    rmSync(logFile);
    expect(await driver.create(spec(id))).toBe(name);
    expect(argvs()).toEqual([['sandbox', 'list', '--names']]);
  });

  it('execs with stdin, env and the remote exit code', async () => {
    const r = await driver.exec(name, ['/bin/sh', '-c', 'cat; echo " $GREETING"; echo oops >&2; exit 7'], { stdin: 'hello', env: { GREETING: 'hi there' } });
    expect(r).toEqual({ exitCode: 7, stdout: 'hello hi there\n', stderr: 'oops\n', timedOut: false });
    expect(argvs()).toEqual([
      ['sandbox', 'exec', '-n', name, '--', 'env', 'GREETING=hi there', '/bin/sh', '-c', 'cat; echo " $GREETING"; echo oops >&2; exit 7'],
    ]);
  });

  it('maps 124 to timedOut only when a timeout was asked for', async () => {
    let r = await driver.exec(name, ['sleep', '5'], { timeoutMs: 1000 });
    expect([r.exitCode, r.timedOut]).toEqual([124, true]);
    expect(argvs()[0]).toEqual(['sandbox', 'exec', '-n', name, '--timeout', '1', '--', 'sleep', '5']);
    script({ exec: [{ match: 'node agent.js', timeout: true }] });
    r = await driver.exec(name, ['node', 'agent.js'], { timeoutMs: 120_500 });
    expect([r.exitCode, r.timedOut]).toEqual([124, true]);
    expect(argvs()[1]).toEqual(['sandbox', 'exec', '-n', name, '--timeout', '121', '--', 'node', 'agent.js']);
    r = await driver.exec(name, ['/bin/sh', '-c', 'exit 124']);
    expect([r.exitCode, r.timedOut]).toEqual([124, false]);
  });

  it('uploads to a path relative to the workdir', async () => {
    const local = path.join(tmp, 'bundle.mjs');
    writeFileSync(local, 'console.log(1)\n');
    await driver.upload(name, local, 'agent/bundle.mjs');
    expect(argvs()).toEqual([['sandbox', 'upload', name, local, 'agent/bundle.mjs', '--no-git-ignore']]);
    const r = await driver.exec(name, ['cat', 'agent/bundle.mjs']);
    expect(r.stdout).toBe('console.log(1)\n');
    await expect(driver.upload(name, path.join(tmp, 'missing'), 'x')).rejects.toThrow(/does not exist/);
  });

  it('applies the install allowance, then replaces it with the run endpoints', async () => {
    await driver.applyPolicy(name, policy('install', [REGISTRY]));
    await driver.applyPolicy(name, policy('run', [MODEL, PROM]));
    // Re-applying the same policy is a no-op: nothing to remove or add.
    await driver.applyPolicy(name, policy('run', [MODEL, PROM]));
    expect(argvs()).toEqual([
      ['policy', 'update', name, '--add-endpoint', 'registry.npmjs.org:443:read-only:rest:enforce', '--binary', '/usr/bin/npm', '--binary', '/usr/bin/node', '--wait'],
      ['policy', 'update', name, '--remove-endpoint', 'registry.npmjs.org:443', '--wait'],
      ['policy', 'update', name, '--add-endpoint', 'vllm-api:8000:read-write:rest:enforce', '--add-endpoint', 'prom:9090:read-only:rest:enforce', '--binary', '/usr/bin/node', '--wait'],
    ]);
    const state = JSON.parse(readFileSync(process.env.FAKE_OPENSHELL_STATE!, 'utf8'));
    expect(state.sandboxes[name].rules).toEqual({
      allow_vllm_api_8000: { endpoints: [{ host: 'vllm-api', port: 8000, access: 'read-write', protocol: 'rest', enforcement: 'enforce' }], binaries: ['/usr/bin/node'] },
      allow_prom_9090: { endpoints: [{ host: 'prom', port: 9090, access: 'read-only', protocol: 'rest', enforcement: 'enforce' }], binaries: ['/usr/bin/node'] },
    });
  });

  it('maps policy update exit codes: 1 rejected (permanent), 124 timeout (retryable)', async () => {
    const other = ep({ name: 'loki', host: 'loki', port: 3100, access: 'read-only', binaries: ['/usr/bin/curl'] });
    script({ policyUpdate: ['failed'] });
    let e = await rejection(driver.applyPolicy(name, policy('run', [MODEL, PROM, other])));
    expect([e.type, e.retryable]).toEqual(['PolicyRejected', false]);
    expect(e.message).toContain('failed to load');

    script({ policyUpdate: ['timeout'] });
    e = await rejection(driver.applyPolicy(name, policy('run', [MODEL, PROM, other])));
    expect(e.retryable).toBe(true);
    expect(e.message).toContain('timed out');

    // The failed endpoint was not recorded as applied, so the retry sends it again.
    script({});
    await driver.applyPolicy(name, policy('run', [MODEL, PROM, other]));
    const sent = argvs().filter((a) => a.includes('loki:3100:read-only:rest:enforce'));
    expect(sent).toHaveLength(3);
    expect(sent[2]).toEqual(['policy', 'update', name, '--add-endpoint', 'loki:3100:read-only:rest:enforce', '--binary', '/usr/bin/curl', '--wait']);
  });

  it('lists with the owner and agent from the local index', async () => {
    await driver.create({ ...spec('second'), agent: 'log_agent', owner: 'incident-INC-2' });
    const list = await driver.list();
    expect(list.map((s) => [s.id, s.owner, s.agent, s.alive])).toEqual([
      [name, 'incident-INC-1', 'metrics_agent', true],
      ['second', 'incident-INC-2', 'log_agent', true],
    ]);
    expect(list.every((s) => s.createdAt && !Number.isNaN(Date.parse(s.createdAt)))).toBe(true);
  });

  it('parses denials from the sandbox log', async () => {
    script({
      denials: {
        [name]: [
          'NET:OPEN [MED] DENIED /sandbox/.venv/bin/python3(47) -> vllm-api:443 [policy:- engine:opa] [reason:no matching network policy]',
          'NET:OPEN [MED] DENIED /sandbox/.venv/bin/python3(48) -> vllm-api:443 [policy:- engine:opa] [reason:no matching network policy]',
          'HTTP:POST [MED] DENIED /usr/bin/node(12) -> POST http://prom:9090/api/v1/admin/tsdb/delete_series [policy:allow_prom_9090 engine:l7] [reason:read-only access forbids POST]',
          'NET:REFUSE [MED] DENIED node(1234) -> 93.184.216.34:443/tcp [policy:bypass-detect engine:nftables]',
        ],
      },
    });
    expect(await driver.denials(name)).toEqual([
      { host: 'vllm-api', port: 443, binary: '/sandbox/.venv/bin/python3', reason: 'no matching network policy' },
      { host: 'prom', port: 9090, binary: '/usr/bin/node', reason: 'read-only access forbids POST' },
      { host: '93.184.216.34', port: 443, binary: 'node', reason: 'denied by policy' },
    ]);
    expect(argvs()).toEqual([['logs', name, '-n', '2000', '--source', 'sandbox']]);
  });

  it('deletes idempotently, whichever way the gateway reports a missing sandbox', async () => {
    await driver.delete(name);
    await driver.delete(name);
    script({ deleteNotFound: 'error' });
    await driver.delete(name);
    expect(argvs()).toEqual([['sandbox', 'delete', name], ['sandbox', 'delete', name], ['sandbox', 'delete', name]]);
    expect(calls().map((c) => c.exit)).toEqual([0, 0, 1]);
    expect((await driver.list()).map((s) => s.id)).toEqual(['second']);
    const e = await rejection(driver.exec(name, ['true']));
    expect([e.type, e.retryable]).toEqual(['SandboxMissing', false]);
    await driver.delete('second');
  });

  it('recovers from a create race and reports a failed create', async () => {
    script({ failNext: { 'sandbox create': { exit: 1, stderr: 'Error:   × status: Unavailable, message: "gateway restarting"\n' } } });
    const e = await rejection(driver.create(spec('racy')));
    expect([e.type, e.retryable]).toEqual(['SandboxCreateFailed', true]);
    expect(await driver.create(spec('racy'))).toBe('racy');
    await driver.delete('racy');
  });

  it('never broke the contract', () => {
    // Every call in this describe block was checked by the fake; contract violations are recorded ok:false.
    expect(calls().filter((c) => !c.ok)).toEqual([]);
  });

  it('says what it cannot enforce', () => {
    expect(driver.kind).toBe('openshell');
    expect(driver.limitations.join('\n')).toMatch(/read-only data paths/);
    expect(new OpenShellDriver({ workdir: stateDir, landlock: 'best_effort' }).limitations.join('\n')).toMatch(/Landlock/);
  });

  it('reports a missing CLI as a permanent driver error', async () => {
    const e = await rejection(new OpenShellDriver({ bin: path.join(tmp, 'nope'), workdir: stateDir }).list());
    expect([e.type, e.retryable]).toEqual(['DriverUnavailable', false]);
  });
});

describe('one policy, translated to OpenShell policy YAML', () => {
  const targets = { model: 'http://vllm-api:8000/v1', prometheus: 'http://prometheus:9090', loki: 'http://loki:3100' };
  const sources = { logsDir: '/data/incident/logs', runbooksDir: '/data/incident/runbooks' };

  async function translate(agent: 'log_agent' | 'metrics_agent' | 'runbook_agent', t: Record<string, string> = targets) {
    const resolved = resolvePolicy(await loadPolicy(agent), 'run', t, sources);
    return parse(renderOpenShellPolicy({ readOnly: resolved.readOnly, endpoints: resolved.endpoints }));
  }
  const hosts = (doc: { network_policies?: Record<string, { endpoints: { host: string; port: number }[] }> }) =>
    Object.values(doc.network_policies ?? {}).flatMap((p) => p.endpoints.map((e) => `${e.host}:${e.port}`));

  it('has the fixed skeleton', async () => {
    const doc = await translate('metrics_agent');
    expect(doc.version).toBe(1);
    expect(doc.filesystem_policy.include_workdir).toBe(true);
    expect(doc.filesystem_policy.read_write).toEqual(['/sandbox', '/tmp', '/dev/null']);
    expect(doc.process).toEqual({ run_as_user: 'sandbox', run_as_group: 'sandbox' });
    expect(doc.landlock.compatibility).toBe('hard_requirement');
  });

  it('log_agent: logs read-only, the model (+ Loki when configured)', async () => {
    let doc = await translate('log_agent');
    expect(doc.filesystem_policy.read_only).toContain('/data/incident/logs');
    expect(doc.filesystem_policy.read_only).not.toContain('/data/incident/runbooks');
    expect(hosts(doc)).toEqual(['vllm-api:8000', 'loki:3100']);
    expect(doc.network_policies.loki).toEqual({
      name: 'loki',
      endpoints: [{ host: 'loki', port: 3100, protocol: 'rest', enforcement: 'enforce', access: 'read-only' }],
      binaries: [{ path: '/usr/bin/node' }],
    });
    doc = await translate('log_agent', { model: targets.model });
    expect(hosts(doc)).toEqual(['vllm-api:8000']);
  });

  it('runbook_agent: runbooks read-only, the model only', async () => {
    const doc = await translate('runbook_agent');
    expect(doc.filesystem_policy.read_only).toContain('/data/incident/runbooks');
    expect(hosts(doc)).toEqual(['vllm-api:8000']);
    expect(doc.network_policies.model.endpoints[0].access).toBe('read-write');
    expect(doc.network_policies.model.binaries).toEqual([{ path: '/usr/bin/node' }]);
  });

  it('metrics_agent: workdir only, the model and Prometheus, each bound to node', async () => {
    const doc = await translate('metrics_agent');
    expect(doc.filesystem_policy.read_only.some((p: string) => p.startsWith('/data'))).toBe(false);
    expect(hosts(doc)).toEqual(['vllm-api:8000', 'prometheus:9090']);
    for (const p of Object.values(doc.network_policies) as { binaries: unknown }[]) expect(p.binaries).toEqual([{ path: '/usr/bin/node' }]);
    expect(doc.network_policies.prometheus.endpoints[0].access).toBe('read-only');
  });
});

describe('parseDenials', () => {
  it('ignores allowed traffic and other log lines', () => {
    expect(parseDenials('[1.0] [sandbox] [INFO ] [x] NET:OPEN [INFO] ALLOWED node(1) -> a:1 [policy:p engine:opa]\nrandom line\n')).toEqual([]);
  });
  it('reads a denial without an actor', () => {
    expect(parseDenials('NET:OPEN [MED] DENIED blocked.com:443 [reason:no rule]')).toEqual([{ host: 'blocked.com', port: 443, binary: null, reason: 'no rule' }]);
  });
});
