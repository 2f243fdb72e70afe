import { type ChildProcess, spawn } from 'node:child_process';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { appendFile, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { alertIncidentId } from '../src/intake/alertmanager';
import { Report } from '../src/schemas/report';
import type { ResolvedPolicy } from '../src/schemas/policy';
import { freePort } from '../src/stack/ports';
import { startPrometheus, type PrometheusServer } from '../src/stack/prometheus';
import { REPO_ROOT } from '../src/stack/tools';
import { startAlertmanager } from './support/alertmanager';
import { withProbe } from './support/probe-driver';
import { until } from './support/until';
import { startTestStack, type TestStack } from './support/worker';
import { wrapDriver } from './support/wrap-driver';

/**
 * The whole live chain with real parts: a small exporter this test runs -> a real Prometheus
 * scraping it every second with an alerting rule -> a real Alertmanager routing the alert with a
 * webhook_configs receiver (bearer token) -> `bulkhead serve` (the CLI, as a child process) ->
 * the investigation on a worker with real local sandboxes -> notification webhooks.
 *
 * The incident (a deploy: the build_info version changes and 5xx start) begins a few seconds
 * into the test and is scraped live. Only the quiet baseline before it (40 min of the same
 * series, so the metrics agent has something to compare with) is backfilled with promtool.
 */
const RUN = Math.random().toString(36).slice(2, 8);
const TOKEN = `serve-token-${RUN}`;
const BAD_VERSION = 'checkout-service-v2.14.3';
const GOOD_VERSION = 'checkout-service-v2.14.2';

interface Hit {
  path: string;
  body: unknown;
  at: number;
}

let work: string;
let stack: TestStack;
let prom: PrometheusServer;
let am: Awaited<ReturnType<typeof startAlertmanager>>;
let exporter: Server;
let hooks: Server;
let serve: ChildProcess;
let servePort: number;
let serveOut = '';
const serveLines: { line: string; at: number }[] = [];
const hits: Hit[] = [];
const policies: { agent: string; policy: ResolvedPolicy }[] = [];
let probes: { id: string; exitCode: number; stderr: string }[] = [];
let probeScript = 'true';
let otherProbes: Record<'log_agent' | 'runbook_agent', { id: string; exitCode: number; stderr: string }[]> = { log_agent: [], runbook_agent: [] };
let incidentAt = 0;
let recoveredAt = 0;
let report: Report;
let reportAt = 0;
let groupKey = '';

/** The exporter: counters continue the backfilled baseline; at incidentAt the version flips and 5xx climb. */
function exporterText(now: number, base: { ok: number; err: number; since: number }): string {
  const t = (now - base.since) / 1000;
  const incident = incidentAt > 0 && now >= incidentAt;
  // After the rollback the 5xx stop: the counter stays where it got to.
  const errorsUntil = recoveredAt > 0 ? Math.min(now, recoveredAt) : now;
  const errs = base.err + 0.1 * t + (incident ? 25 * (Math.max(0, errorsUntil - incidentAt) / 1000) : 0);
  return [
    '# HELP http_requests_total Requests served.',
    '# TYPE http_requests_total counter',
    `http_requests_total{code="200"} ${Math.floor(base.ok + 50 * t)}`,
    `http_requests_total{code="500"} ${Math.floor(errs)}`,
    '# HELP app_build_info The running build.',
    '# TYPE app_build_info gauge',
    `app_build_info{version="${incident ? BAD_VERSION : GOOD_VERSION}"} 1`,
    '',
  ].join('\n');
}

/** 40 minutes of the same series, as scraping labels them (job, instance), ending 20 s ago. */
function baselineOm(instance: string, end: number): { om: string; ok: number; err: number } {
  const lines = ['# TYPE http_requests counter', '# TYPE app_build_info gauge'];
  const ok: string[] = [];
  const err: string[] = [];
  const info: string[] = [];
  const start = end - 40 * 60;
  let okv = 0;
  let errv = 0;
  for (let ts = start; ts <= end; ts += 15) {
    okv = 50 * (ts - start);
    errv = Math.floor(0.1 * (ts - start));
    const l = `job="checkout-service",instance="${instance}"`;
    ok.push(`http_requests_total{code="200",${l}} ${okv} ${ts}`);
    err.push(`http_requests_total{code="500",${l}} ${errv} ${ts}`);
    info.push(`app_build_info{${l},version="${GOOD_VERSION}"} 1 ${ts}`);
  }
  return { om: [lines[0], ...ok, ...err, lines[1], ...info, '# EOF', ''].join('\n'), ok: okv, err: errv };
}

const listen = (s: Server) => new Promise<number>((r) => s.listen(0, '127.0.0.1', () => r((s.address() as AddressInfo).port)));

beforeAll(async () => {
  work = await mkdtemp(path.join(tmpdir(), 'bh-serve-e2e-'));
  for (const d of ['logs/shared', 'logs/checkout', 'logs/search']) await mkdir(path.join(work, d), { recursive: true });
  await writeFile(path.join(work, 'logs/checkout/app.log'), '2026-12-01 05:00:00,000 ERROR pool exhausted\n');

  // Notification webhooks: Slack-shaped, plain JSON (503 once, then fine), and one that refuses.
  let jsonCalls = 0;
  hooks = createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString()));
    req.on('end', () => {
      hits.push({ path: req.url ?? '', body: JSON.parse(body || 'null'), at: Date.now() });
      if (req.url === '/reject') return res.writeHead(400).end('no');
      if (req.url === '/json' && jsonCalls++ === 0) return res.writeHead(503).end('busy');
      res.writeHead(200).end('ok');
    });
  });
  const hookPort = await listen(hooks);

  // The exporter, and the baseline its series had before this test.
  let base = { ok: 0, err: 0, since: Date.now() };
  exporter = createServer((_req, res) => res.writeHead(200, { 'content-type': 'text/plain; version=0.0.4' }).end(exporterText(Date.now(), base)));
  const exporterPort = await listen(exporter);
  const backfillEnd = Math.floor(Date.now() / 1000) - 20;
  const b = baselineOm(`127.0.0.1:${exporterPort}`, backfillEnd);
  base = { ok: b.ok, err: b.err, since: backfillEnd * 1000 };
  const omFile = path.join(work, 'baseline.om');
  await writeFile(omFile, b.om);

  servePort = await freePort();
  am = await startAlertmanager(
    [
      'route:',
      '  receiver: bulkhead',
      '  group_by: [alertname, run]',
      '  group_wait: 1s',
      '  group_interval: 2s',
      '  repeat_interval: 3s',
      'receivers:',
      '  - name: bulkhead',
      '    webhook_configs:',
      `      - url: http://127.0.0.1:${servePort}/v1/alertmanager`,
      '        send_resolved: true',
      '        http_config:',
      `          authorization: {type: Bearer, credentials: ${TOKEN}}`,
      '',
    ].join('\n'),
  );
  prom = await startPrometheus({
    omFiles: [omFile],
    config: [
      'global: {scrape_interval: 1s, evaluation_interval: 1s}',
      'rule_files: [rules.yml]',
      'alerting:',
      `  alertmanagers: [{static_configs: [{targets: ["127.0.0.1:${am.port}"]}]}]`,
      'scrape_configs:',
      `  - {job_name: checkout-service, static_configs: [{targets: ["127.0.0.1:${exporterPort}"]}]}`,
      '',
    ].join('\n'),
    files: {
      'rules.yml': [
        'groups:',
        '  - name: checkout',
        '    rules:',
        '      - alert: CheckoutErrors',
        '        expr: sum by (job) (rate(http_requests_total{job="checkout-service",code="500"}[5s])) > 5',
        // Real rules wait a while before firing; 20 s also puts the deploy inside the window.
        '        for: 20s',
        `        labels: {severity: critical, run: "${RUN}"}`,
        '        annotations: {summary: "checkout-service 5xx above 5/s", description: "checkout payments failing"}',
        '',
      ].join('\n'),
    },
  });

  // What a prompt-injected metrics agent would try: every other live endpoint of this setup.
  probeScript = [
    `for u in ${prom.url}/-/ready ${am.url}/-/ready http://127.0.0.1:${servePort}/healthz http://127.0.0.1:${hookPort}/slack http://${inject('temporalAddress')}/; do`,
    // Through the proxy the sandbox is given (NO_PROXY lists loopback, which has no route here).
    `  echo "$u $(curl -s -o /dev/null --max-time 5 --noproxy '' -x "$HTTP_PROXY" -w "%{http_code}" "$u")"`,
    'done',
  ].join('\n');
  stack = await startTestStack({
    wrapDriver: (local) => {
      const recording = wrapDriver(local, {
        applyPolicy: async (id, policy) => {
          policies.push({ agent: policy.agent, policy });
          return local.applyPolicy(id, policy);
        },
      });
      const m = withProbe(recording, 'metrics_agent', () => `${probeScript} >&2`);
      const l = withProbe(m.driver, 'log_agent', () => `${probeScript} >&2`);
      const r = withProbe(l.driver, 'runbook_agent', () => `${probeScript} >&2`);
      probes = m.probes;
      otherProbes = { log_agent: l.probes, runbook_agent: r.probes };
      return r.driver;
    },
  });

  const config = path.join(work, 'bulkhead.yaml');
  await writeFile(
    config,
    [
      'sources:',
      `  prometheus: {url: "${prom.url}"}`,
      '  logs:',
      `    dirs: [logs/shared, {path: logs/checkout, service: checkout-service}, {path: logs/search, service: search-api}]`,
      `  runbooks: {dir: "${path.join(REPO_ROOT, 'scenarios/checkout-outage/runbooks')}"}`,
      'notify:',
      `  - {url: "http://127.0.0.1:${hookPort}/slack", format: slack}`,
      `  - {url: "http://127.0.0.1:${hookPort}/json", format: json}`,
      `  - {url: "http://127.0.0.1:${hookPort}/reject", format: json}`,
      `intake: {lookback: 30m, dedupe_for: 1h, link_base: "http://127.0.0.1:${servePort}"}`,
      '',
    ].join('\n'),
  );
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (!/^(TEMPORAL_|BULKHEAD_|ANTHROPIC_|PROMETHEUS_URL|LOKI_URL)/.test(k)) env[k] = v;
  Object.assign(env, { TEMPORAL_ADDRESS: inject('temporalAddress'), BULKHEAD_TASK_QUEUE: stack.taskQueue, BULKHEAD_SERVE_TOKEN: TOKEN });
  serve = spawn(process.execPath, ['bin/bulkhead.mjs', 'serve', '--listen', `127.0.0.1:${servePort}`, '--config', config], { cwd: REPO_ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
  const onData = (c: Buffer) => {
    serveOut += c.toString();
    for (const line of c.toString().split('\n').filter(Boolean)) serveLines.push({ line, at: Date.now() });
  };
  serve.stdout!.on('data', onData);
  serve.stderr!.on('data', onData);
  await until(() => serveOut.includes('listening on'), 60_000, 'serve did not start').catch((e: Error) => {
    throw new Error(`${e.message}\n${serveOut}`);
  });

  // The incident begins now, live: a deploy, then 5xx.
  await new Promise((r) => setTimeout(r, 3000));
  incidentAt = Date.now();
  // The service's own log says so too (plain text, as written; read by the log agent).
  const stamp = (ms: number) => new Date(ms).toISOString().replace('T', ' ').replace('Z', '').replace('.', ',');
  await appendFile(
    path.join(work, 'logs/checkout/app.log'),
    [
      `${stamp(incidentAt)} INFO  [main] Starting checkout-service version ${BAD_VERSION}`,
      ...Array.from({ length: 20 }, (_, i) => `${stamp(incidentAt + 1000 + i * 500)} ERROR [pay-${i % 4}] NullPointerException in PaymentProcessor.java:142`),
      '',
    ].join('\n'),
  );
  await until(() => serveLines.some((l) => l.line.includes(': started incident-')), 90_000, 'no alert reached serve').catch((e: Error) => {
    throw new Error(`${e.message}\n${serveOut}`);
  });
  const started = serveLines.find((l) => l.line.includes(': started incident-'))!;
  groupKey = /alert group (.*): started/.exec(started.line)![1]!;
  const id = `incident-${alertIncidentId(groupKey)}`;
  report = Report.parse(await stack.client.workflow.getHandle(id).result());
  reportAt = Date.now();
  // Alertmanager keeps re-sending the still-firing group every repeat_interval.
  await until(() => serveLines.some((l) => l.line.includes(': joined incident-')), 30_000, 'no repeat notification').catch((e: Error) => {
    throw new Error(`${e.message}\n${serveOut}`);
  });
  const alertAt = started.at;
  // Recovery: the rule stops matching, Alertmanager sends `resolved`, which starts nothing.
  recoveredAt = Date.now();
  await until(() => serveLines.some((l) => l.line.includes(': resolved, nothing started')), 90_000, 'no resolved notification').catch((e: Error) => {
    throw new Error(`${e.message}\n${serveOut}`);
  });
  console.log(
    `live chain: incident -> first webhook ${((alertAt - incidentAt) / 1000).toFixed(1)} s; webhook -> report ${((reportAt - alertAt) / 1000).toFixed(1)} s; incident -> report ${((reportAt - incidentAt) / 1000).toFixed(1)} s`,
  );
}, 300_000);

afterAll(async () => {
  if (serve && serve.exitCode === null) {
    serve.kill('SIGTERM');
    await new Promise((r) => serve.once('close', r));
  }
  await am?.stop();
  await prom?.stop();
  await stack?.stop();
  exporter?.close();
  hooks?.closeAllConnections();
  hooks?.close();
  if (work) await rm(work, { recursive: true, force: true });
});

describe('Alertmanager -> bulkhead serve -> investigation -> notification (real Prometheus and Alertmanager)', () => {
  it('the investigation completes and its report names the injected deploy', () => {
    expect(report.status, JSON.stringify(report.reasons)).not.toBe('failed');
    expect(report.service).toBe('checkout-service');
    expect(report.severity).toBe('critical');
    // Seen live in the metrics: the version label flipped at the incident's start. The timeline
    // masks versions in descriptions (src/agents/sanitize.ts); the metrics summary names it.
    const rollout = report.timeline.find((t) => t.source === 'metrics' && t.event.includes('first seen in app_build_info'));
    expect(rollout, JSON.stringify(report.timeline)).toBeDefined();
    expect(Date.parse(rollout!.ts)).toBeGreaterThan(incidentAt - 20_000);
    const metrics = report.specialists.find((s) => s.agent === 'metrics_agent')!;
    expect(metrics.summary).toContain(`${GOOD_VERSION} -> ${BAD_VERSION}`);
    // The log agent's verdict outranks the metrics' (src/report/build.ts); either names this deploy or none.
    expect([BAD_VERSION, null]).toContain(report.suspectedChange);
    expect(report.specialists.find((s) => s.agent === 'metrics_agent')?.status).toBe('completed');
    for (const s of report.specialists) expect(s.sandbox).toMatchObject({ created: true, deleted: true });
  });

  it('repeats of the group joined the one investigation, and its resolved notification started nothing', async () => {
    const id = `incident-${alertIncidentId(groupKey)}`;
    let runs = 0;
    for await (const _ of stack.client.workflow.list({ query: `WorkflowId = "${id}"` })) runs++;
    expect(runs).toBe(1);
    expect(serveLines.filter((l) => l.line.includes(`: started ${id}`)).length).toBe(1);
    expect(serveLines.filter((l) => l.line.includes(`: joined ${id}`)).length).toBeGreaterThan(0);
    expect(serveLines.some((l) => l.line === `alert group ${groupKey}: resolved, nothing started`)).toBe(true);
  });

  it('serves the report and refuses a bad payload with 400 naming the field', async () => {
    const id = `incident-${alertIncidentId(groupKey)}`;
    const auth = { authorization: `Bearer ${TOKEN}` };
    const view = (await (await fetch(`http://127.0.0.1:${servePort}/v1/investigations/${id}`, { headers: auth })).json()) as { status: string; report: Report };
    expect(view.status).toBe(report.status);
    expect(view.report).toEqual(JSON.parse(JSON.stringify(report)));
    const md = await fetch(`http://127.0.0.1:${servePort}/v1/investigations/${id}/report.md`, { headers: auth });
    expect(await md.text()).toContain('first seen in app_build_info');
    const bad = await fetch(`http://127.0.0.1:${servePort}/v1/alertmanager`, {
      method: 'POST',
      headers: { ...auth, 'content-type': 'application/json' },
      body: JSON.stringify({ version: '4', groupKey: 'x', status: 'firing', alerts: [{ labels: { service: 'x' } }] }),
    });
    expect(bad.status).toBe(400);
    expect(await bad.json()).toMatchObject({ field: 'alerts.0.startsAt' });
  });

  it('posted the summary to each webhook (Slack text, JSON after a retry); a refusing one did not fail it', () => {
    const slack = hits.filter((h) => h.path === '/slack');
    expect(slack).toHaveLength(1);
    const text = (slack[0]!.body as { text: string }).text;
    expect(text).toContain(report.status);
    expect(text).toContain(`http://127.0.0.1:${servePort}/v1/investigations/${report.workflowId}/report.md`);
    const json = hits.filter((h) => h.path === '/json');
    expect(json.length).toBe(2);
    expect(json[1]!.body).toMatchObject({ event: 'investigation.finished', workflowId: report.workflowId, status: report.status, rootCause: report.rootCause });
    expect(hits.filter((h) => h.path === '/reject')).toHaveLength(1);
  });

  it('each specialist reached only its own source: the policy named exactly the configured Prometheus, and the log dirs of this service', () => {
    const promPort = Number(new URL(prom.url).port);
    const metrics = policies.filter((p) => p.agent === 'metrics_agent' && p.policy.phase === 'run');
    expect(metrics.length).toBeGreaterThan(0);
    for (const m of metrics) expect(m.policy.endpoints.map((e) => `${e.host}:${e.port}`)).toEqual([`127.0.0.1:${promPort}`]);
    const logs = policies.filter((p) => p.agent === 'log_agent' && p.policy.phase === 'run');
    for (const l of logs) {
      expect(l.policy.readOnly).toEqual([path.join(work, 'logs/shared'), path.join(work, 'logs/checkout')]);
      expect(l.policy.endpoints).toEqual([]);
    }
    for (const r of policies.filter((p) => p.agent === 'runbook_agent')) expect(r.policy.endpoints).toEqual([]);
  });

  it('a shell in the metrics sandbox reaches Prometheus and none of Alertmanager, serve, the webhook or Temporal', () => {
    expect(probes.length).toBeGreaterThan(0);
    const lines = probes[0]!.stderr.trim().split('\n').filter((l) => l.startsWith('http'));
    expect(lines).toHaveLength(5);
    const code = (prefix: string) => lines.find((l) => l.startsWith(prefix))!.split(' ').pop();
    expect(code(prom.url)).toBe('200');
    for (const other of [am.url, `http://127.0.0.1:${servePort}`, `http://${inject('temporalAddress')}`]) expect(code(other)).not.toBe('200');
    expect(lines.filter((l) => l.endsWith(' 200'))).toHaveLength(1);
  });

  it('the log and runbook sandboxes (no network source configured) reach none of them, Prometheus included', () => {
    for (const agent of ['log_agent', 'runbook_agent'] as const) {
      const got = otherProbes[agent];
      expect(got.length, agent).toBeGreaterThan(0);
      const lines = got[0]!.stderr.trim().split('\n').filter((l) => l.startsWith('http'));
      expect(lines, agent).toHaveLength(5);
      expect(lines.filter((l) => l.endsWith(' 200')), agent).toEqual([]);
    }
  });
});
