import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LABEL } from '../src/sandbox/labels';
import { OpenShellDriver } from '../src/sandbox/openshell';
import { isPoolId, WarmPool } from '../src/sandbox/pool';
import { StackDriver } from '../src/sandbox/stack';
import { Report } from '../src/schemas/report';
import { omFilesOf, startPrometheus, type PrometheusServer } from '../src/stack/prometheus';
import { REPO_ROOT } from '../src/stack/tools';
import { isValidSandboxName } from '../src/workflows/ids';
import { type Standin, startStandin } from './support/managed-agents-standin';
import { runLikePoller } from './support/shim';
import { withStubAgents } from './support/stub-agents';
import { startTestStack, type TestStack } from './support/worker';

// Whole investigations and the warm pool through the OpenShell driver, against the stand-in
// gateway (test/support/openshell-standin.mjs), with injected Error phases, gateway outages and
// deadline errors. The stand-in runs commands on this host: it checks the contract, not isolation.
const STANDIN = path.resolve(import.meta.dirname, 'support/openshell-standin.mjs');
const scenarioDir = path.join(REPO_ROOT, 'scenarios/checkout-outage');
const tmp = mkdtempSync(path.join(os.tmpdir(), 'bh-openshell-e2e-'));
const gateway = path.join(tmp, 'gateway');
const bin = path.join(tmp, 'bin');

const records = () => (existsSync(path.join(gateway, 'sandboxes')) ? readdirSync(path.join(gateway, 'sandboxes')) : []);
const inject = (op: string, fault: string) => {
  mkdirSync(path.join(gateway, 'inject'), { recursive: true });
  writeFileSync(path.join(gateway, 'inject', `${op}.${fault}.${Date.now()}`), '');
};
const calls = () => readFileSync(path.join(gateway, 'calls.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { argv: string[]; ok: boolean; exit: number });

function openshell(): OpenShellDriver {
  // `sandbox upload` needs an ssh client on the worker host; the stand-in only looks for one.
  mkdirSync(bin, { recursive: true });
  writeFileSync(path.join(bin, 'ssh'), '#!/bin/sh\nexit 0\n');
  chmodSync(path.join(bin, 'ssh'), 0o755);
  return new OpenShellDriver({
    bin: STANDIN,
    workdir: path.join(tmp, 'driver'),
    env: { ...process.env, PATH: `${bin}:${process.env.PATH}`, OPENSHELL_STANDIN_DIR: gateway },
  });
}

/** OpenShell's proxy refuses loopback: Prometheus must be at a routable address, as a Service would be. */
function routableIPv4(): string | null {
  for (const addrs of Object.values(os.networkInterfaces())) {
    for (const a of addrs ?? []) if (a.family === 'IPv4' && !a.internal) return a.address;
  }
  return null;
}
async function forward(to: URL, host: string): Promise<{ url: string; close: () => void }> {
  const server = net.createServer((sock) => {
    const up = net.connect(Number(to.port), to.hostname);
    sock.pipe(up).pipe(sock);
    sock.on('error', () => up.destroy());
    up.on('error', () => sock.destroy());
  });
  await new Promise<void>((r) => server.listen(0, host, r));
  return { url: `http://${host}:${(server.address() as net.AddressInfo).port}`, close: () => server.close() };
}

afterAll(() => rmSync(tmp, { recursive: true, force: true }));

describe('investigations through the OpenShell driver', () => {
  const host = routableIPv4();
  let prom: PrometheusServer;
  let fwd: { url: string; close: () => void };
  let stack: TestStack;
  beforeAll(async () => {
    prom = await startPrometheus({ omFiles: await omFilesOf(scenarioDir) });
    fwd = await forward(new URL(prom.url), host ?? '127.0.0.1');
    stack = await startTestStack({ env: { BULKHEAD_SANDBOX: 'openshell', PROMETHEUS_URL: fwd.url }, wrapDriver: () => openshell() });
  }, 120_000);
  afterAll(async () => {
    await stack?.stop();
    fwd?.close();
    await prom?.stop();
  });

  it.skipIf(!host)('completes despite an Error phase, an unavailable gateway and a deadline, and leaves nothing on the gateway', async () => {
    inject('create', 'error-phase');
    inject('exec', 'unavailable');
    inject('policy', 'deadline');
    const handle = await stack.client.workflow.start('investigateIncident', {
      taskQueue: stack.taskQueue, workflowId: `incident-test-openshell-${Date.now()}`, args: [{ scenarioDir }],
    });
    const report = Report.parse(await handle.result());
    expect(report.status).toBe('completed');
    expect(report.specialists.map((s) => s.agent).sort()).toEqual(['log_agent', 'metrics_agent', 'runbook_agent']);
    for (const s of report.specialists) {
      expect(isValidSandboxName(s.sandbox.id), s.sandbox.id).toBe(true);
      expect([s.sandbox.created, s.sandbox.deleted]).toEqual([true, true]);
      // Each reached what it needed (Prometheus, for the metrics agent) through the stand-in's
      // policy-enforcing proxy, under the policy the driver set: nothing was refused.
      expect(s.denials).toEqual([]);
    }
    expect(report.matchedIncidents[0]).toBe('INC-2847');
    expect(report.suspectedChange).toBe('checkout-service-v2.14.3');
    // Every fault was met (and survived), every sandbox deleted, and the contract never broken.
    expect(readdirSync(path.join(gateway, 'inject'))).toEqual([]);
    expect(records()).toEqual([]);
    const all = calls();
    expect(all.filter((c) => !c.ok)).toEqual([]);
    const creates = all.filter((c) => c.argv[1] === 'create');
    expect(creates.some((c) => c.exit === 1)).toBe(true);
    // Each create carried the stack's labels; each policy was one `policy set` revision.
    for (const c of creates) expect(c.argv).toContain(`${LABEL.stack}=${stack.stackId}`);
    expect(all.filter((c) => c.argv[0] === 'policy').every((c) => c.argv[1] === 'set')).toBe(true);
  }, 240_000);

  it('keeps warm-pool stock on the gateway under valid names with its labels, and takes all of it away on close', async () => {
    const scoped = new StackDriver(openshell(), 'pool-stack');
    const pool = new WarmPool(scoped, { size: 2, idleMs: 0 });
    pool.start(async (id) => {
      await pool.upload(id, STANDIN, 'agent.mjs');
      const r = await pool.exec(id, ['/bin/sh', '-c', 'test -s agent.mjs']);
      if (r.exitCode !== 0) throw new Error('install failed');
    });
    pool.prefill('log_agent', []);
    await pool.whenFull(60_000);
    const stock = records().map((f) => f.replace(/\.json$/, ''));
    expect(stock).toHaveLength(2);
    expect(stock.every((n) => isPoolId(n) && isValidSandboxName(n))).toBe(true);
    const raw = await scoped.list();
    expect(raw.every((s) => s.labels[LABEL.stack] === 'pool-stack' && s.agent === 'log_agent')).toBe(true);

    const id = 'bh-l-000000000pool-0';
    await pool.create({ id, agent: 'log_agent', owner: 'incident-x/log_agent-1', readOnly: [] });
    expect(pool.preinstalled(id, STANDIN, 'agent.mjs')).toBe(true);
    expect((await pool.exec(id, ['/bin/sh', '-c', 'echo claimed'])).stdout).toBe('claimed\n');
    expect((await pool.list()).map((s) => s.id)).toEqual([id]);
    await pool.delete(id);
    await pool.close();
    expect(records()).toEqual([]);
  }, 120_000);
});

describe('an ant-mode session through the OpenShell driver', () => {
  const host = routableIPv4();
  let stack: TestStack;
  let stateDir: string;
  let api: Standin;
  let fwd: { url: string; close: () => void } | undefined;
  beforeAll(async () => {
    stateDir = mkdtempSync(path.join(tmp, 'state-'));
    // The Managed Agents API stand-in, at a routable address as the real API host would be.
    api = await startStandin();
    fwd = host ? await forward(new URL(api.url), host) : undefined;
    stack = await startTestStack({
      // The metrics policy needs a Prometheus target; a routable name is enough, nothing queries it.
      env: { BULKHEAD_SANDBOX: 'openshell', BULKHEAD_STATE_DIR: stateDir, ANTHROPIC_BASE_URL: fwd?.url ?? api.url, PROMETHEUS_URL: 'http://prometheus.monitoring.svc:9090', BULKHEAD_SESSION_MAX_IDLE_MS: '1500' },
      wrapDriver: () => withStubAgents(openshell()),
    });
  }, 120_000);
  afterAll(async () => {
    await stack?.stop();
    fwd?.close();
    await api?.close();
  });

  it.skipIf(!host)('refuses a dispatch endpoint on loopback (the sandbox proxy would), naming BULKHEAD_DISPATCH_HOST, and leaves nothing behind', async () => {
    api.addSession(['dispatch log_agent "top errors"']);
    const shim = await runLikePoller(api, {
      PATH: process.env.PATH!,
      HOME: process.env.HOME!,
      TEMPORAL_ADDRESS: stack.config.TEMPORAL_ADDRESS!,
      BULKHEAD_TASK_QUEUE: stack.taskQueue,
      BULKHEAD_STATE_DIR: stateDir,
    });
    await shim.exit;
    const handle = stack.client.workflow.getHandle(`work-${shim.workId}`);
    const failure = await handle.result().then(() => null, (e: Error & { cause?: Error & { cause?: Error } }) => e);
    const text = [failure?.message, failure?.cause?.message, failure?.cause?.cause?.message].join(' | ');
    expect(text).toMatch(/dispatch .*loopback.*BULKHEAD_DISPATCH_HOST/);
    // The session sandbox was created on the gateway under a valid name, and deleted.
    const creates = calls().filter((c) => c.argv[1] === 'create' && c.argv.some((a) => a.startsWith('bh-s-')));
    expect(creates).toHaveLength(1);
    expect(isValidSandboxName(creates[0]!.argv[3]!)).toBe(true);
    expect(records()).toEqual([]);
  }, 180_000);
});

describe('an ant-mode session through the OpenShell driver, with a routable BULKHEAD_DISPATCH_HOST', () => {
  const host = routableIPv4();
  let stack: TestStack;
  let api: Standin;
  let fwd: { url: string; close: () => void } | undefined;
  let stateDir: string;
  beforeAll(async () => {
    stateDir = mkdtempSync(path.join(tmp, 'state-'));
    api = await startStandin();
    fwd = host ? await forward(new URL(api.url), host) : undefined;
    stack = await startTestStack({
      env: {
        BULKHEAD_SANDBOX: 'openshell', BULKHEAD_STATE_DIR: stateDir, ANTHROPIC_BASE_URL: fwd?.url ?? api.url,
        PROMETHEUS_URL: 'http://prometheus.monitoring.svc:9090', BULKHEAD_SESSION_MAX_IDLE_MS: '1500', ...(host ? { BULKHEAD_DISPATCH_HOST: host } : {}),
      },
      wrapDriver: () => withStubAgents(openshell()),
    });
  }, 120_000);
  afterAll(async () => {
    await stack?.stop();
    fwd?.close();
    await api?.close();
  });

  it.skipIf(!host)("answers the brain's dispatch through the sandbox proxy, under the session policy", async () => {
    const { workId } = api.addSession(['dispatch log_agent "top errors"']);
    const shim = await runLikePoller(api, {
      PATH: process.env.PATH!,
      HOME: process.env.HOME!,
      TEMPORAL_ADDRESS: stack.config.TEMPORAL_ADDRESS!,
      BULKHEAD_TASK_QUEUE: stack.taskQueue,
      BULKHEAD_STATE_DIR: stateDir,
    });
    await shim.exit;
    const out = await stack.client.workflow.getHandle(`work-${workId}`).result();
    expect(out.dispatches).toEqual([{ workflowId: `work-${workId}/log_agent-1`, agent: 'log_agent', ok: true }]);
    expect(out.sandbox.deleted).toBe(true);
    // The dispatch went through the stand-in's policy-enforcing proxy to the worker's pod-like
    // address; nothing was refused, and nothing is left on the gateway.
    const session = calls().find((c) => c.argv[1] === 'create' && c.argv.some((a) => a.startsWith('bh-s-')))!.argv[3]!;
    expect(isValidSandboxName(session)).toBe(true);
    expect(existsSync(path.join(gateway, 'denials', session))).toBe(false);
    expect(records()).toEqual([]);
  }, 180_000);
});
