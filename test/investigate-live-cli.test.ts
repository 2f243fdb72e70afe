import { spawn } from 'node:child_process';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { Report } from '../src/schemas/report';
import { REPO_ROOT } from '../src/stack/tools';
import { cliRequest } from '../src/cli/investigate-live';
import { startOrJoin } from '../src/intake/start';
import { liveInput } from '../src/live/input';
import { ConfigFile } from '../src/schemas/config-file';
import { investigationProgress } from '../src/workflows/progress';
import { investigationHistoryText } from './support/history-text';
import { until } from './support/until';
import { startTestStack, type TestStack } from './support/worker';

/**
 * `bulkhead investigate "WHAT USERS REPORT" --service S --since 30m --config FILE` and
 * `--alert FILE` as a user runs them, against the run's dev server and a test worker. The config
 * names runbooks only: metrics and logs are reported as not configured, not as failures.
 */
let stack: TestStack;
let dir: string;
let config: string;

function cli(args: string[], extraEnv: Record<string, string> = {}, onOut?: (out: string, child: ReturnType<typeof spawn>) => void): Promise<{ code: number | null; out: string }> {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (!/^(TEMPORAL_|BULKHEAD_|ANTHROPIC_|PROMETHEUS_URL|LOKI_URL)/.test(k)) env[k] = v;
  Object.assign(env, { TEMPORAL_ADDRESS: inject('temporalAddress'), BULKHEAD_TASK_QUEUE: stack.taskQueue, ...extraEnv });
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['bin/bulkhead.mjs', ...args], { cwd: REPO_ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (c: Buffer) => {
      out += c.toString();
      onOut?.(out, child);
    });
    child.stderr.on('data', (c: Buffer) => (out += c.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, out }));
  });
}

beforeAll(async () => {
  stack = await startTestStack();
  dir = await mkdtemp(path.join(tmpdir(), 'bh-live-cli-'));
  config = path.join(dir, 'bulkhead.yaml');
  await writeFile(config, `sources:\n  runbooks: {dir: "${path.join(REPO_ROOT, 'scenarios/checkout-outage/runbooks')}"}\n`);
});
afterAll(async () => {
  await stack?.stop();
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe('bulkhead investigate, live', () => {
  let out: string;
  let report: Report;

  it('runs the investigation from the report text, writing report.json and report.md', async () => {
    const outDir = path.join(dir, 'out');
    const r = await cli(['investigate', 'checkout payments failing', '--service', 'checkout-service', '--since', '30m', '--severity', 'critical', '--config', config, '--out', outDir]);
    out = r.out;
    expect(r.code, r.out.slice(-3000)).toBe(0);
    report = Report.parse(JSON.parse(await readFile(path.join(outDir, 'report.json'), 'utf8')));
    expect(report).toMatchObject({ service: 'checkout-service', severity: 'critical', title: 'checkout payments failing' });
    expect(await readFile(path.join(outDir, 'report.md'), 'utf8')).toContain('checkout-service');
    const span = Date.parse(report.finishedAt) - Date.parse(report.startedAt);
    expect(span).toBeGreaterThanOrEqual(0);
  });

  it('sources not in the config are "not configured": no sandbox, no failure', () => {
    expect(report.status).not.toBe('failed');
    expect(report.reasons.join(' ')).not.toMatch(/metrics_agent|log_agent/);
    expect(report.specialists.map((s) => s.agent)).not.toContain('metrics_agent');
    expect(report.specialists.map((s) => s.agent)).not.toContain('log_agent');
    expect(report.specialists.map((s) => s.agent)).toContain('runbook_agent');
    expect(report.warnings.some((w) => w.startsWith('not configured: metrics_agent'))).toBe(true);
    expect(report.warnings.some((w) => w.startsWith('not configured: log_agent'))).toBe(true);
    expect(out).toContain('not configured: metrics_agent');
  });

  it('the Temporal UI gets a summary, markdown details that follow the run, and a summary per brain turn; progress does not flood the history', async () => {
    const handle = stack.client.workflow.getHandle(report.workflowId);
    const d = await handle.describe();
    expect(await d.staticSummary()).toBe('checkout payments failing · checkout-service · critical');
    expect(await d.staticDetails()).toContain('**Reported**: checkout payments failing');
    const meta = (await handle.query('__temporal_workflow_metadata')) as { currentDetails?: string };
    expect(meta.currentDetails).toContain(`**${report.status}**`);
    const history = await handle.fetchHistory();
    const events = history.events ?? [];
    const summaries = events
      .filter((e) => e.activityTaskScheduledEventAttributes?.activityType?.name === 'brainTurn')
      .map((e) => Buffer.from(e.userMetadata?.summary?.data ?? new Uint8Array()).toString());
    expect(summaries.length).toBe(report.brain.turns);
    summaries.forEach((s, i) => expect(s).toContain(`brain turn ${i + 1} of`));
    // A child reports its run and its end, not every sandbox step.
    const signals = events.filter((e) => e.workflowExecutionSignaledEventAttributes).length;
    const runs = report.specialists.reduce((n, s) => n + s.attempts, 0);
    expect(signals).toBeLessThanOrEqual(runs + report.specialists.length);
  });

  it('--alert starts from a saved Alertmanager payload; a second run joins it', async () => {
    const payload = {
      version: '4',
      groupKey: `{}:{alertname="CheckoutErrors",case="${Date.now()}"}`,
      status: 'firing',
      receiver: 'bulkhead',
      alerts: [{ status: 'firing', labels: { alertname: 'CheckoutErrors', app: 'checkout-service', severity: 'page' }, annotations: { summary: 'payments failing' }, startsAt: new Date(Date.now() - 120_000).toISOString() }],
    };
    const file = path.join(dir, 'payload.json');
    await writeFile(file, JSON.stringify(payload));
    const first = await cli(['investigate', '--alert', file, '--config', config, '--detach']);
    expect(first.code, first.out).toBe(0);
    const id = /investigation (incident-am-[0-9a-f]+) started/.exec(first.out)?.[1];
    expect(id, first.out).toBeDefined();
    const again = await cli(['investigate', '--alert', file, '--config', config, '--detach']);
    expect(again.out).toContain(`investigation ${id} joined`);
    const r = Report.parse(await stack.client.workflow.getHandle(id!).result());
    expect(r).toMatchObject({ service: 'checkout-service', severity: 'page' });
  });

  it('a source auth header goes from the worker\'s env to the agent\'s requests, never into history', async () => {
    const SECRET = `Bearer live-secret-${Date.now()}`;
    const seen: (string | undefined)[] = [];
    // A Prometheus HTTP API stand-in with no data, recording what the metrics agent sends.
    const promStandin = createServer((req, res) => {
      seen.push(req.headers.authorization);
      const p = req.url ?? '';
      const data = /query(_range)?/.test(p) ? { resultType: 'matrix', result: [] } : p.includes('metadata') ? {} : [];
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ status: 'success', data }));
    });
    await new Promise<void>((r) => promStandin.listen(0, '127.0.0.1', () => r()));
    const url = `http://127.0.0.1:${(promStandin.address() as AddressInfo).port}`;
    const cfg = path.join(dir, 'auth.yaml');
    await writeFile(cfg, `sources:\n  prometheus: {url: "${url}", auth_env: BH_TEST_PROM_AUTH}\n`);
    // The worker (this process) holds the value; the CLI and the workflow only the name.
    process.env.BH_TEST_PROM_AUTH = SECRET;
    try {
      const r = await cli(['investigate', 'checkout slow', '--service', 'checkout-service', '--config', cfg, '--out', path.join(dir, 'auth-out')]);
      expect(r.code, r.out.slice(-2000)).toBe(0);
      expect(seen.length).toBeGreaterThan(0);
      expect(seen.every((h) => h === SECRET)).toBe(true);
      const report = JSON.parse(await readFile(path.join(dir, 'auth-out/report.json'), 'utf8')) as Report;
      const history = await investigationHistoryText(stack.client, report.workflowId);
      expect(history).toContain('BH_TEST_PROM_AUTH');
      expect(history).not.toContain(SECRET.slice(7));
      expect(r.out).not.toContain(SECRET.slice(7));
    } finally {
      delete process.env.BH_TEST_PROM_AUTH;
      promStandin.close();
    }
  });

  it('a cancelled investigation still notifies, with status cancelled', async () => {
    const posts: unknown[] = [];
    // Prometheus that never answers: the metrics agent sits in its run until cancelled.
    const hang = createServer(() => undefined);
    const hook = createServer((req, res) => {
      let body = '';
      req.on('data', (c: Buffer) => (body += c.toString()));
      req.on('end', () => {
        posts.push(JSON.parse(body));
        res.writeHead(200).end();
      });
    });
    const port = async (srv: typeof hang) => {
      await new Promise<void>((r) => srv.listen(0, '127.0.0.1', () => r()));
      return (srv.address() as AddressInfo).port;
    };
    const cfg = ConfigFile.parse({ sources: { prometheus: { url: `http://127.0.0.1:${await port(hang)}` } }, notify: [{ url: `http://127.0.0.1:${await port(hook)}/n`, format: 'json' }] });
    const req = cliRequest({ report: 'checkout hangs', service: 'checkout-service' }, cfg, new Date()).request;
    req.id = `${req.id}-cancel`;
    const started = await startOrJoin(stack.client, stack.taskQueue, { incidentId: req.id, input: liveInput(cfg, req), summary: 's', details: 'd' }, 0);
    const handle = stack.client.workflow.getHandle(started.id);
    try {
      await until(async () => {
        const p = await handle.query(investigationProgress).catch(() => null);
        return !!p?.specialists.some((x) => x.agent === 'metrics_agent' && x.step === 'run');
      }, 90_000, 'metrics agent running');
      await handle.cancel();
      await expect(handle.result()).rejects.toThrow();
      await until(() => posts.length > 0, 60_000, 'cancel notification');
      expect(posts[0]).toMatchObject({ event: 'investigation.finished', status: 'cancelled', workflowId: started.id, service: 'checkout-service' });
    } finally {
      hang.closeAllConnections();
      hang.close();
      hook.close();
    }
  });

  it('Ctrl-C cancels the live investigation, waits for its cleanup and exits 130, leaving no sandbox', async () => {
    const hang = createServer(() => undefined);
    await new Promise<void>((r) => hang.listen(0, '127.0.0.1', () => r()));
    const cfg = path.join(dir, 'hang.yaml');
    await writeFile(cfg, `sources:\n  prometheus: {url: "http://127.0.0.1:${(hang.address() as AddressInfo).port}"}\n`);
    let sent = false;
    try {
      const r = await cli(['investigate', 'checkout hangs', '--service', 'checkout-service', '--config', cfg], {}, (out, child) => {
        // The metrics agent is in its run (Prometheus never answers): interrupt now.
        if (!sent && /metrics_agent +run/.test(out)) {
          sent = true;
          child.kill('SIGINT');
        }
      });
      expect(sent, r.out).toBe(true);
      expect(r.code, r.out).toBe(130);
      expect(r.out).toContain('investigation cancelled');
      expect(await stack.local.list()).toEqual([]);
    } finally {
      hang.closeAllConnections();
      hang.close();
    }
  });

  it.each([
    [['investigate', '--service', 'checkout-service', '--config', 'CONFIG'], 'REPORT'],
    [['investigate', 'x', '--config', 'CONFIG'], '--service'],
    [['investigate', 'x', '--service', 's', '--since', 'soon', '--config', 'CONFIG'], '--since'],
    [['investigate', 'x', '--service', 's', '--config', '/nonexistent/bulkhead.yaml'], '--config'],
    [['investigate', '--alert', '/nonexistent/payload.json', '--config', 'CONFIG'], '--alert'],
    [['investigate', 'x', '--scenario', 'scenarios/checkout-outage', '--service', 's'], '--service'],
    [['investigate', 'x', '--service', 's', '--config', 'CONFIG', '--out', '/proc/x'], '--out'],
  ])('bad input %j exits 2 naming %s, starting nothing', async (args, field) => {
    const r = await cli(args.map((a) => (a === 'CONFIG' ? config : a)));
    expect(r.code, r.out).toBe(2);
    expect(r.out).toContain(`bulkhead: ${field}`);
  });
});
