import { Client, Connection } from '@temporalio/client';
import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { inject } from 'vitest';
import { alertIncidentId } from '../src/intake/alertmanager';
import { createIntakeServer, MAX_BODY_BYTES } from '../src/intake/server';
import { ConfigFile } from '../src/schemas/config-file';

/**
 * The HTTP contract of `bulkhead serve` (DESIGN.md section 10) against the run's real dev
 * server. No worker polls this task queue: what is started stays running, which is what the
 * join and dedupe cases need; the full chain is test/serve-alertmanager-e2e.test.ts.
 */
const TOKEN = 'test-token-3f1c';
let connection: Connection;
let client: Client;
let server: Server;
let base: string;
let clock = new Date();
const taskQueue = `intake-${Math.random().toString(36).slice(2, 10)}`;
const group = `{}/{}:{alertname="CheckoutErrors",run="${taskQueue}"}`;

const payload = (over: Record<string, unknown> = {}) => ({
  version: '4',
  groupKey: group,
  truncatedAlerts: 0,
  status: 'firing',
  receiver: 'bulkhead',
  groupLabels: { alertname: 'CheckoutErrors' },
  commonLabels: { alertname: 'CheckoutErrors', service: 'checkout-service', severity: 'critical' },
  commonAnnotations: { summary: 'checkout 5xx above 5%' },
  externalURL: 'http://alertmanager:9093',
  alerts: [
    {
      status: 'firing',
      labels: { alertname: 'CheckoutErrors', service: 'checkout-service', severity: 'critical' },
      annotations: { summary: 'checkout 5xx above 5%' },
      startsAt: new Date(Date.now() - 60_000).toISOString(),
      endsAt: '0001-01-01T00:00:00Z',
      generatorURL: 'http://prometheus:9090/graph',
      fingerprint: 'c0ffee',
    },
  ],
  ...over,
});

async function post(body: unknown, headers: Record<string, string> = { authorization: `Bearer ${TOKEN}` }) {
  const res = await fetch(`${base}/v1/alertmanager`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'user-agent': 'Alertmanager/0.25.0', ...headers },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}
const get = (p: string, auth = true) => fetch(`${base}${p}`, auth ? { headers: { authorization: `Bearer ${TOKEN}` } } : {});

async function countRuns(id: string): Promise<number> {
  let n = 0;
  for await (const _ of client.workflow.list({ query: `WorkflowId = "${id}"` })) n++;
  return n;
}

beforeAll(async () => {
  connection = await Connection.connect({ address: inject('temporalAddress') });
  client = new Client({ connection });
  server = createIntakeServer({ client, taskQueue, config: ConfigFile.parse({ intake: { dedupe_for: '1h' } }), token: TOKEN, now: () => clock });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(async () => {
  const id = `incident-${alertIncidentId(group)}`;
  await client?.workflow.getHandle(id).terminate('test over').catch(() => undefined);
  server?.closeAllConnections();
  await new Promise((r) => server?.close(r));
  await connection?.close();
});

describe('bulkhead serve: HTTP contract', () => {
  it('/healthz needs no token; everything else does (401)', async () => {
    expect((await get('/healthz', false)).status).toBe(200);
    expect((await get('/v1/investigations', false)).status).toBe(401);
    expect((await post(payload(), {})).status).toBe(401);
    expect((await post(payload(), { authorization: 'Bearer wrong' })).status).toBe(401);
    expect(await countRuns(`incident-${alertIncidentId(group)}`)).toBe(0);
  });

  it.each([
    ['{"version": "4", "groupKey": ', '(body)'],
    [payload({ version: undefined }), 'version'],
    [payload({ groupKey: '' }), 'groupKey'],
    [payload({ status: 'pending' }), 'status'],
    [payload({ alerts: [] }), 'alerts'],
    [payload({ alerts: [{ labels: { service: 'x' } }] }), 'alerts.0.startsAt'],
    [payload({ alerts: [{ startsAt: '2026-12-01T05:00:00Z' }] }), 'alerts.0.labels'],
    [payload({ commonLabels: {}, alerts: [{ labels: { alertname: 'X' }, startsAt: '2026-12-01T05:00:00Z' }] }), 'alerts.0.labels.service'],
  ])('400 naming the field, nothing started: %#', async (body, field) => {
    const r = await post(body);
    expect(r.status).toBe(400);
    expect(r.body.field).toBe(field);
    expect(typeof r.body.error).toBe('string');
    expect(await countRuns(`incident-${alertIncidentId(group)}`)).toBe(0);
  });

  it('413 for a body over 1 MiB, nothing started', async () => {
    const big = JSON.stringify(payload({ padding: 'x'.repeat(MAX_BODY_BYTES) }));
    const r = await post(big);
    expect(r.status).toBe(413);
    expect(await countRuns(`incident-${alertIncidentId(group)}`)).toBe(0);
  });

  it('resolved starts nothing', async () => {
    const r = await post(payload({ status: 'resolved', alerts: [{ ...payload().alerts[0], status: 'resolved' }] }));
    expect(r.status).toBeLessThan(300);
    expect(r.body).toEqual({ investigations: [] });
    expect(await countRuns(`incident-${alertIncidentId(group)}`)).toBe(0);
  });

  it('202 with the id from the group key; a repeat joins the running one', async () => {
    const id = `incident-${alertIncidentId(group)}`;
    const first = await post(payload());
    expect(first.status).toBe(202);
    expect(first.body).toEqual({ investigations: [{ id, status: 'started', groupKey: group }] });
    // Alertmanager re-sends a group at every repeat_interval, and HA pairs each send one.
    const again = await Promise.all([post(payload()), post(payload({ receiver: 'other' }))]);
    for (const r of again) expect(r.body).toEqual({ investigations: [{ id, status: 'joined', groupKey: group }] });
    expect(await countRuns(id)).toBe(1);
    const d = await client.workflow.getHandle(id).describe();
    expect(d.taskQueue).toBe(taskQueue);
    // The UI lists it by title, service and severity, and renders what was reported.
    const meta = await d.staticSummary?.();
    expect(meta ?? '').toContain('checkout-service');
    expect(meta ?? '').toContain('critical');
    expect((await d.staticDetails?.()) ?? '').toContain('checkout 5xx above 5%');
  });

  it('GET /v1/investigations/ID: running with no report; unknown is 404; report.md 404 until done', async () => {
    const id = `incident-${alertIncidentId(group)}`;
    const res = await get(`/v1/investigations/${id}`);
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ id, status: 'running', report: null });
    expect((await get(`/v1/investigations/${id}/report.md`)).status).toBe(404);
    expect((await get('/v1/investigations/incident-nope')).status).toBe(404);
    const list = (await (await get('/v1/investigations')).json()) as { id: string; status: string }[];
    expect(list.find((x) => x.id === id)).toMatchObject({ status: 'running' });
  });

  it('a finished one is joined within dedupe_for, and a new run starts after it', async () => {
    const id = `incident-${alertIncidentId(group)}`;
    await client.workflow.getHandle(id).terminate('ended for the test');
    const closed = (await client.workflow.getHandle(id).describe()).closeTime!;
    clock = new Date(closed.getTime() + 30 * 60_000);
    expect((await post(payload())).body).toMatchObject({ investigations: [{ id, status: 'joined' }] });
    expect(await countRuns(id)).toBe(1);
    clock = new Date(closed.getTime() + 61 * 60_000);
    expect((await post(payload())).body).toMatchObject({ investigations: [{ id, status: 'started' }] });
    expect(await countRuns(id)).toBe(2);
  });
});
