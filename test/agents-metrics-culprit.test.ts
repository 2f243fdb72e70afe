import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { closeDispatchers } from '../src/agents/http';
import { gatherMetrics } from '../src/agents/metrics/index';
import type { Gathered } from '../src/agents/types';
import type { AgentInput } from '../src/schemas/agent';
import { startPrometheus, type PrometheusServer } from '../src/stack/prometheus';
import { badCanary, crowdedNamespace, earlierBlip, exporterOnlyDependency, healthyWindow, noisyNeighbour, shortData, type MetricSet } from './fixtures/metrics-sets';

/**
 * The metrics agent on incident metric sets loaded into a real Prometheus (backfilled with
 * promtool): culprit, onset, short history, healthy windows, suffixed neighbours and units.
 */

const minutesApart = (a: string, b: string) => Math.abs(Date.parse(a) - Date.parse(b)) / 60_000;

function input(url: string, set: MetricSet): AgentInput {
  return {
    agent: 'metrics_agent',
    task: `Check the golden signals of ${set.service}. Symptom reported: ${set.title}.`,
    incident: { id: `INC-${set.id}`, title: set.title, service: set.service, severity: 'SEV2', report: set.report, window: set.window, now: set.window.end },
    sources: { prometheusUrl: url },
    model: null,
  };
}

async function gather(set: MetricSet): Promise<{ g: Gathered; stop: () => Promise<void> }> {
  const dir = await mkdtemp(join(tmpdir(), `bulkhead-metrics-${set.id}-`));
  const om = join(dir, `${set.id}.om`);
  await writeFile(om, set.om);
  let prom: PrometheusServer | undefined;
  try {
    prom = await startPrometheus({ omFiles: [om] });
    const g = await gatherMetrics(input(prom.url, set), () => {});
    if (process.env.BULKHEAD_TEST_LOG) console.error(`--- ${set.id}\n${g.digest}\n${JSON.stringify(g.evidence.timeline, null, 1)}`);
    const p = prom;
    return { g, stop: async () => (await p.stop(), await rm(dir, { recursive: true, force: true })) };
  } catch (e) {
    await prom?.stop();
    await rm(dir, { recursive: true, force: true });
    throw e;
  }
}

afterAll(closeDispatchers);

describe('a database saturated by a noisy neighbour; the reporting service only slows down', () => {
  const set = noisyNeighbour();
  let g: Gathered;
  let stop: () => Promise<void>;
  beforeAll(async () => ({ g, stop } = await gather(set)), 120_000);
  afterAll(() => stop?.());

  it('names the database as the culprit, not the service nor a namespace neighbour', () => {
    expect(g.evidence.culprit).toBe('orders-db');
  });
  it('dates the onset where the reported slowness starts', () => {
    expect(minutesApart(g.evidence.onset!, set.onset!)).toBeLessThanOrEqual(2);
  });
  it('says why, when, and who drove the load, in the digest and the timeline', () => {
    expect(g.digest).toMatch(/Likely culprit: orders-db \(a dependency named by the service's own metrics\)/);
    expect(g.digest).toMatch(/min before the symptom/);
    expect(g.digest).toMatch(/Its load came from report-batch/);
    const ev = g.evidence.timeline.find((t) => t.event.startsWith('likely culprit orders-db'));
    expect(ev, JSON.stringify(g.evidence.timeline)).toBeDefined();
    expect(Date.parse(ev!.ts)).toBeLessThan(Date.parse(set.onset!));
  });
  it('scans the replica found by its suffixed name and the culprit before alphabetical neighbours', () => {
    expect(g.digest).toMatch(/also scanned neighbours: orders-db \(/);
    expect(g.digest).toContain('orders-db-replica-1');
    const names = g.evidence.anomalies.map((a) => a.name);
    expect(names.some((n) => n.startsWith('[orders-db] node_cpu_utilization')), names.join('; ')).toBe(true);
    expect(names.some((n) => n.startsWith('[orders-db-replica-1] pg_replication_lag_seconds')), names.join('; ')).toBe(true);
    // The filler whose CPU blipped at 10:05 is not an anomaly anyone should chase.
    expect(names.some((n) => n.startsWith('[accounts-api]'))).toBe(false);
  });
  it('gives units by naming convention: ops are counts, utilisation and ratios are %', () => {
    const by = (prefix: string) => g.evidence.anomalies.find((a) => a.name.startsWith(prefix));
    expect(by('[orders-db] node_cpu_utilization')?.unit).toBe('%');
    expect(by('[orders-db-replica-1] pg_replication_lag_seconds')?.unit).toBe('s');
    const ops = by('[orders-db] pg_stat_database_workload_ops') ?? by('[report-batch] batch_workload_ops');
    expect(ops, g.evidence.anomalies.map((a) => a.name).join('; ')).toBeDefined();
    for (const a of g.evidence.anomalies.filter((x) => x.name.includes('workload_ops'))) expect(a.unit ?? '', a.name).not.toBe('%');
    const p99 = by('p99 http_server_requests_seconds');
    expect(p99?.unit).toBe('ms');
  });
});

describe('an earlier unrelated blip in the window', () => {
  const set = earlierBlip();
  let g: Gathered;
  let stop: () => Promise<void>;
  beforeAll(async () => ({ g, stop } = await gather(set)), 120_000);
  afterAll(() => stop?.());

  it('dates the onset at the reported errors, not at the blip', () => {
    expect(g.evidence.onset).not.toBeNull();
    expect(minutesApart(g.evidence.onset!, set.onset!)).toBeLessThanOrEqual(2);
  });
  it('dates the error ratio itself at the real rise, not at its earlier twitch', () => {
    const ratio = g.evidence.anomalies.find((a) => a.name.startsWith('error ratio http_server_requests_total'));
    expect(ratio?.onset).toBeTruthy();
    expect(minutesApart(ratio!.onset!, set.onset!)).toBeLessThanOrEqual(2);
  });
  it('names no neighbour as culprit', () => {
    expect(g.evidence.culprit).toBeNull();
  });
});

describe('data that start two minutes before the fault', () => {
  const set = shortData();
  let g: Gathered;
  let stop: () => Promise<void>;
  beforeAll(async () => ({ g, stop } = await gather(set)), 120_000);
  afterAll(() => stop?.());

  it('finds the onset from what precedes it', () => {
    expect(g.evidence.onset).not.toBeNull();
    expect(minutesApart(g.evidence.onset!, set.onset!)).toBeLessThanOrEqual(2);
  });
  it('says there is no clean baseline', () => {
    expect(g.digest).toMatch(/no clean baseline/);
  });
  it('ranks the real symptoms first, never the noise', () => {
    const top = g.evidence.anomalies[0];
    expect(top, g.digest).toBeDefined();
    expect(top.name).toMatch(/error ratio|p99/);
    for (const a of g.evidence.anomalies.slice(0, 2)) expect(a.name).not.toMatch(/go_goroutines|process_resident_memory/);
    const ratio = g.evidence.anomalies.find((a) => a.name.startsWith('error ratio http_server_requests_total'))!;
    expect(ratio.before!).toBeLessThan(2);
    expect(ratio.after!).toBeGreaterThan(10);
  });
});

describe('a healthy window', () => {
  const set = healthyWindow();
  let g: Gathered;
  let stop: () => Promise<void>;
  beforeAll(async () => ({ g, stop } = await gather(set)), 120_000);
  afterAll(() => stop?.());

  it('yields no onset and no culprit, and says so plainly', () => {
    expect(g.evidence.onset).toBeNull();
    expect(g.evidence.culprit).toBeNull();
    expect(g.digest).toMatch(/Onset: none\. The metrics of "profile-api" look healthy in this window/);
  });
});

describe('a bad canary deployed under a suffixed name', () => {
  const set = badCanary();
  let g: Gathered;
  let stop: () => Promise<void>;
  beforeAll(async () => ({ g, stop } = await gather(set)), 120_000);
  afterAll(() => stop?.());

  it('finds the canary by discovery and names it as the culprit', () => {
    expect(g.evidence.culprit).toBe('checkout-web-canary');
    expect(g.digest).toMatch(/checkout-web-canary \(a variant of checkout-web\)/);
  });
  it("keeps the canary's series out of the service's own queries", () => {
    const own = g.evidence.anomalies.filter((a) => !a.name.startsWith('['));
    expect(own.length).toBeGreaterThan(0);
    for (const a of own) expect(a.promql).not.toContain('canary');
  });
  it('dates the onset at the stable service symptom', () => {
    expect(minutesApart(g.evidence.onset!, set.onset!)).toBeLessThanOrEqual(2);
  });
});

describe('a crowded namespace and no dependency labels', () => {
  const set = crowdedNamespace();
  let g: Gathered;
  let stop: () => Promise<void>;
  beforeAll(async () => ({ g, stop } = await gather(set)), 120_000);
  afterAll(() => stop?.());

  it('scans the neighbour that moved around the onset, not the first ones by name', () => {
    expect(g.digest).toMatch(/also scanned neighbours: session-store \(same namespace="storefront"\)/);
  });
  it('names it as the culprit, ahead of the symptom', () => {
    expect(g.evidence.culprit).toBe('session-store');
    expect(minutesApart(g.evidence.onset!, set.onset!)).toBeLessThanOrEqual(2);
    const ev = g.evidence.timeline.find((t) => t.event.startsWith('likely culprit session-store'));
    expect(ev).toBeDefined();
    expect(minutesApart(ev!.ts, '2026-06-02T14:06:00Z')).toBeLessThanOrEqual(2);
  });
});

describe('a dependency known only by its exporter instance', () => {
  const set = exporterOnlyDependency();
  let g: Gathered;
  let stop: () => Promise<void>;
  beforeAll(async () => ({ g, stop } = await gather(set)), 120_000);
  afterAll(() => stop?.());

  it('finds it through the peer_service label and names it by that name', () => {
    expect(g.evidence.culprit).toBe('inventory-db');
    expect(g.digest).toMatch(/Likely culprit: inventory-db \(a dependency named by the service's own metrics\)/);
    expect(minutesApart(g.evidence.onset!, set.onset!)).toBeLessThanOrEqual(2);
  });
  it("keeps the other database behind the same exporter job out", () => {
    const names = g.evidence.anomalies.map((a) => `${a.name} ${a.promql}`).join('\n');
    expect(names).toContain('[inventory-db] mysql_global_status_threads_connected');
    expect(names).not.toContain('billing-db');
  });
  it('reads its connections against its own ceiling, named differently by the exporter', () => {
    expect(g.digest).toMatch(/\[inventory-db\] mysql_global_status_threads_connected: 40 -> 150 of 151 max/);
  });
});
