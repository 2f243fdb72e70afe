import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { alertRequest, cliRequest } from '../src/cli/investigate-live';
import { InputError } from '../src/errors';
import { alertIncidentId, alertInvestigation, parsePayload, PayloadError } from '../src/intake/alertmanager';
import { loadConfigFile, parseConfigFile } from '../src/live/config-file';
import { liveInput, sourcesFor, unconfiguredAgents } from '../src/live/input';
import { ConfigFile } from '../src/schemas/config-file';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'bh-live-config-'));
  for (const d of ['logs/shared', 'logs/checkout', 'logs/search', 'runbooks']) await mkdir(path.join(dir, d), { recursive: true });
});
afterAll(async () => rm(dir, { recursive: true, force: true }));

const FULL = `
sources:
  prometheus: {url: "http://prom.internal:9090", auth_env: PROM_AUTH}
  loki: {url: "https://loki.internal:3100", tenant: team-a, auth_env: LOKI_AUTH}
  logs:
    dirs: [logs/shared, {path: logs/checkout, service: checkout-service}, {path: logs/search, service: search-api}]
    timezone: Europe/Berlin
  runbooks: {dir: runbooks}
notify:
  - {url: "http://hooks.internal/x", format: slack}
  - {url_env: PAGER_HOOK}
intake: {service_label: team_service, lookback: 45m, dedupe_for: 2h}
`;

async function fails(text: string): Promise<InputError> {
  try {
    await parseConfigFile(text, path.join(dir, 'bulkhead.yaml'));
  } catch (e) {
    return e as InputError;
  }
  throw new Error('expected the config to be refused');
}

describe('bulkhead.yaml', () => {
  it('reads every source, with relative paths taken from the file and secrets only as env var names', async () => {
    const cfg = await parseConfigFile(FULL, path.join(dir, 'bulkhead.yaml'));
    expect(cfg.sources.logs?.dirs[0]).toBe(path.join(dir, 'logs/shared'));
    expect(cfg.sources.runbooks?.dir).toBe(path.join(dir, 'runbooks'));
    expect(cfg.notify[1]).toEqual({ url_env: 'PAGER_HOOK', format: 'json' });
    expect(cfg.intake).toEqual({ service_label: 'team_service', lookback: '45m', dedupe_for: '2h' });
    // A dir with a service is mounted for that service only; a bare path for every one.
    const s = sourcesFor(cfg, 'checkout-service');
    expect(s.logDirs).toEqual([path.join(dir, 'logs/shared'), path.join(dir, 'logs/checkout')]);
    expect(sourcesFor(cfg, 'payments').logDirs).toEqual([path.join(dir, 'logs/shared')]);
    expect(s).toMatchObject({ prometheusUrl: 'http://prom.internal:9090', prometheusAuthEnv: 'PROM_AUTH', lokiTenant: 'team-a', lokiAuthEnv: 'LOKI_AUTH', logTimezone: 'Europe/Berlin' });
    expect(unconfiguredAgents(s, 'checkout-service')).toEqual([]);
  });

  it('an empty file configures nothing, and each missing source is reported as not configured', async () => {
    const cfg = await parseConfigFile('', path.join(dir, 'bulkhead.yaml'));
    expect(unconfiguredAgents(sourcesFor(cfg, 'x'), 'x').map((u) => u.agent)).toEqual(['metrics_agent', 'log_agent', 'runbook_agent']);
    // Only a dir for another service: the log agent has nothing for this one.
    const other = await parseConfigFile(`sources: {logs: {dirs: [{path: logs/search, service: search-api}]}}`, path.join(dir, 'b.yaml'));
    expect(unconfiguredAgents(sourcesFor(other, 'checkout-service'), 'checkout-service').map((u) => u.agent)).toContain('log_agent');
  });

  it.each([
    ['sources: {prometheus: {url: "not a url"}}', 'bulkhead.yaml: sources.prometheus.url'],
    ['sources: {prometheus: {url: "ftp://x:21"}}', 'bulkhead.yaml: sources.prometheus.url'],
    ['sources: {prometheus: {url: "http://p:9090", auth_env: "Bearer abc.def"}}', 'bulkhead.yaml: sources.prometheus.auth_env'],
    ['sources: {prometheus: {url: "http://p:9090", token: abc}}', 'bulkhead.yaml: sources.prometheus.token'],
    ['sources: {prometheu: {url: "http://p:9090"}}', 'bulkhead.yaml: sources.prometheu'],
    ['sources: {logs: {dirs: [logs/missing]}}', 'bulkhead.yaml: sources.logs.dirs.0'],
    ['sources: {logs: {dirs: [logs/shared], timezone: Mars/Olympus}}', 'bulkhead.yaml: sources.logs.timezone'],
    ['sources: {runbooks: {dir: nowhere}}', 'bulkhead.yaml: sources.runbooks.dir'],
    ['notify: [{format: slack}]', 'bulkhead.yaml: notify.0.url'],
    ['notify: [{url: "http://h/x", format: teams}]', 'bulkhead.yaml: notify.0.format'],
    ['intake: {lookback: 30 minutes}', 'bulkhead.yaml: intake.lookback'],
    ['sources: [', 'bulkhead.yaml'],
  ])('refuses %s naming the key', async (text, field) => {
    const e = await fails(text);
    expect(e).toBeInstanceOf(InputError);
    expect(e.exitCode).toBe(2);
    expect(e.field).toBe(field);
  });

  it('is found by --config, else BULKHEAD_CONFIG, else ./bulkhead.yaml (which may be absent)', async () => {
    await writeFile(path.join(dir, 'a.yaml'), 'sources: {runbooks: {dir: runbooks}}');
    expect((await loadConfigFile('a.yaml', {}, dir)).config.sources.runbooks?.dir).toBe(path.join(dir, 'runbooks'));
    expect((await loadConfigFile(undefined, { BULKHEAD_CONFIG: path.join(dir, 'a.yaml') }, dir)).file).toBe(path.join(dir, 'a.yaml'));
    expect(await loadConfigFile(undefined, {}, dir)).toEqual({ file: null, config: ConfigFile.parse({}) });
    await expect(loadConfigFile('missing.yaml', {}, dir)).rejects.toMatchObject({ field: '--config' });
    await expect(loadConfigFile(undefined, { BULKHEAD_CONFIG: 'missing.yaml' }, dir)).rejects.toMatchObject({ field: 'BULKHEAD_CONFIG' });
  });
});

const payload = (over: Record<string, unknown> = {}) => ({
  receiver: 'bulkhead',
  status: 'firing',
  alerts: [
    {
      status: 'firing',
      labels: { alertname: 'CheckoutErrors', job: 'checkout-service', severity: 'critical', instance: '10.0.0.7:8080' },
      annotations: { summary: 'checkout error rate above 5%', description: 'payments failing' },
      startsAt: '2026-12-01T05:20:00.123456789Z',
      endsAt: '0001-01-01T00:00:00Z',
      generatorURL: 'http://prom/graph?g0.expr=x',
      fingerprint: 'a1b2',
    },
  ],
  groupLabels: { alertname: 'CheckoutErrors' },
  commonLabels: { alertname: 'CheckoutErrors', job: 'checkout-service', severity: 'critical' },
  commonAnnotations: {},
  externalURL: 'http://am:9093',
  version: '4',
  groupKey: '{}:{alertname="CheckoutErrors"}',
  truncatedAlerts: 0,
  ...over,
});

describe('Alertmanager webhook payload (version 4)', () => {
  const cfg = ConfigFile.parse({});
  const now = new Date('2026-12-01T05:30:00Z');

  it('a firing group becomes one incident: service from job (no service label), window from startsAt - lookback to now', () => {
    const inv = alertInvestigation(parsePayload(payload()), cfg, now)!;
    expect(inv.request).toMatchObject({
      id: alertIncidentId('{}:{alertname="CheckoutErrors"}'),
      service: 'checkout-service',
      severity: 'critical',
      report: 'checkout error rate above 5%\npayments failing',
      window: { start: '2026-12-01T04:50:00.123Z', end: '2026-12-01T05:30:00.000Z' },
    });
    expect(inv.details).toContain('CheckoutErrors');
    // Same group key, same id: a repeat joins.
    expect(alertInvestigation(parsePayload(payload({ receiver: 'other' })), cfg, new Date('2026-12-01T05:31:00Z'))!.request.id).toBe(inv.request.id);
    expect(alertInvestigation(parsePayload(payload({ groupKey: 'other' })), cfg, now)!.request.id).not.toBe(inv.request.id);
  });

  it('the configured service label wins over job; resolved starts nothing', () => {
    const c = ConfigFile.parse({ intake: { service_label: 'team_service' } });
    const p = payload({ commonLabels: { team_service: 'payments' } });
    expect(alertInvestigation(parsePayload(p), c, now)!.request.service).toBe('payments');
    expect(alertInvestigation(parsePayload(payload({ status: 'resolved' })), cfg, now)).toBeNull();
  });

  it.each([
    [{ version: undefined }, 'version'],
    [{ version: '3' }, 'version'],
    [{ groupKey: 42 }, 'groupKey'],
    [{ status: 'burning' }, 'status'],
    [{ alerts: [] }, 'alerts'],
    [{ alerts: 'x' }, 'alerts'],
    [{ alerts: [{ labels: { job: 'x' } }] }, 'alerts.0.startsAt'],
    [{ alerts: [{ startsAt: '2026-12-01T05:20:00Z' }] }, 'alerts.0.labels'],
    [{ alerts: [{ labels: { job: 'x' }, startsAt: 'yesterday' }] }, 'alerts.0.startsAt'],
  ])('refuses %j naming %s', (over, field) => {
    expect(() => parsePayload(payload(over))).toThrow(PayloadError);
    try {
      parsePayload(payload(over));
    } catch (e) {
      expect((e as PayloadError).field).toBe(field);
    }
  });

  it('a group whose labels name no service is refused, naming the label', () => {
    const p = payload({ commonLabels: {}, alerts: [{ labels: { alertname: 'X' }, startsAt: '2026-12-01T05:20:00Z' }] });
    expect(() => alertInvestigation(parsePayload(p), cfg, now)).toThrow(/alerts\.0\.labels\.service/);
  });

  it('--alert reads a saved payload; a bad one names the field', async () => {
    const f = path.join(dir, 'payload.json');
    await writeFile(f, JSON.stringify(payload()));
    expect((await alertRequest(f, cfg, now))!.request.service).toBe('checkout-service');
    await writeFile(f, JSON.stringify(payload({ alerts: [] })));
    await expect(alertRequest(f, cfg, now)).rejects.toMatchObject({ field: '--alert: alerts' });
    await writeFile(f, '{"version": "4",');
    await expect(alertRequest(f, cfg, now)).rejects.toMatchObject({ field: '--alert' });
  });
});

describe('live CLI request', () => {
  const cfg = ConfigFile.parse({});
  const now = new Date('2026-12-01T05:30:00Z');
  it('--since gives [now-since, now]; --from/--to a past window', () => {
    const r = cliRequest({ report: 'checkout payments failing', service: 'checkout-service', since: '30m' }, cfg, now).request;
    expect(r.window).toEqual({ start: '2026-12-01T05:00:00.000Z', end: '2026-12-01T05:30:00.000Z' });
    expect(r.id).toBe('checkout-service-20261201t053000z');
    const past = cliRequest({ report: 'x', service: 's', from: '2026-11-30T10:00:00Z', to: '2026-11-30T12:30:00+01:00' }, cfg, now).request;
    expect(past.window).toEqual({ start: '2026-11-30T10:00:00.000Z', end: '2026-11-30T11:30:00.000Z' });
  });
  it.each([
    [{ service: 's' }, 'REPORT'],
    [{ report: 'x' }, '--service'],
    [{ report: 'x', service: 's', since: 'half an hour' }, '--since'],
    [{ report: 'x', service: 's', since: '30m', from: '2026-11-30T10:00:00Z', to: '2026-11-30T11:00:00Z' }, '--since'],
    [{ report: 'x', service: 's', from: '2026-11-30T10:00:00Z' }, '--to'],
    [{ report: 'x', service: 's', from: '2026-11-30 10:00', to: '2026-11-30T11:00:00Z' }, '--from'],
    [{ report: 'x', service: 's', from: '2026-11-30T12:00:00Z', to: '2026-11-30T11:00:00Z' }, '--from'],
  ])('refuses %j naming %s', (o, field) => {
    expect(() => cliRequest(o, cfg, now)).toThrow(expect.objectContaining({ field, exitCode: 2 }));
  });
  it('the workflow input carries env var names, never secret values', async () => {
    const c = await parseConfigFile(FULL, path.join(dir, 'bulkhead.yaml'));
    const input = liveInput(c, cliRequest({ report: 'x', service: 'checkout-service' }, c, now).request);
    const text = JSON.stringify(input);
    expect(text).toContain('PROM_AUTH');
    expect(text).toContain('PAGER_HOOK');
    expect(input.notify).toEqual([{ url: 'http://hooks.internal/x', format: 'slack' }, { urlEnv: 'PAGER_HOOK', format: 'json' }]);
  });
});
