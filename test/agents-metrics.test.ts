import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import { closeDispatchers } from '../src/agents/http';
import { analyze } from '../src/agents/metrics/changes';
import { containsToken } from '../src/agents/metrics/discover';
import { gatherMetrics } from '../src/agents/metrics/index';
import type { Gathered } from '../src/agents/types';
import { startPrometheus, type PrometheusServer } from '../src/stack/prometheus';
import type { AgentInput } from '../src/schemas/agent';

const quiet = () => {};
const ROOT = resolve(import.meta.dirname, '..');

// ---------- a synthetic service with a change at a known time ----------

const T0 = Date.parse('2026-05-10T09:00:00Z') / 1000; // data starts
const WINDOW_START = T0 + 3600; // 10:00
const ONSET = T0 + 3600 + 25 * 60; // 10:25
const DEPLOY = ONSET - 4 * 60; // 10:21
const T_END = T0 + 2 * 3600; // 11:00
const STEP = 15;

/** Deterministic noise in [-1, 1]. */
function noise(i: number, salt: number): number {
  const x = Math.sin(i * 12.9898 + salt * 78.233) * 43758.5453;
  return 2 * (x - Math.floor(x)) - 1;
}

function syntheticOm(): string {
  const svc = 'service="orders-api"';
  const bounds = ['0.05', '0.1', '0.25', '0.5', '1', '2.5', '+Inf'];
  // Cumulative fractions per bucket: before p99 ≈ 150 ms, after p99 ≈ 2.35 s.
  const before = [0.6, 0.985, 1, 1, 1, 1, 1];
  const after = [0.3, 0.5, 0.7, 0.8, 0.9, 1, 1];
  const fam: Record<string, string[]> = {};
  const push = (family: string, line: string) => (fam[family] ??= []).push(line);
  const bucket = new Array(bounds.length).fill(0);
  let count = 0;
  let sum = 0;
  let ok = 0;
  let err = 0;
  let otherOk = 0;
  let restarts = 0;
  for (let i = 0, t = T0; t <= T_END; i++, t += STEP) {
    const broken = t >= ONSET;
    const reqs = Math.round(750 * (1 + 0.05 * noise(i, 1)));
    const fr = broken ? after : before;
    bounds.forEach((_, b) => (bucket[b] += Math.round(reqs * fr[b])));
    count += reqs;
    sum += reqs * (broken ? 0.6 : 0.05);
    const errShare = broken ? 0.12 : 0.001;
    err += Math.round(reqs * errShare + (broken ? 0 : (i % 10 === 0 ? 1 : 0)));
    ok += Math.round(reqs * (1 - errShare));
    otherOk += Math.round(300 * (1 + 0.05 * noise(i, 2)));
    if (broken && (t - ONSET) % 600 === 300) restarts += 1;
    bounds.forEach((le, b) => push('http_request_duration_seconds', `http_request_duration_seconds_bucket{${svc},le="${le}"} ${bucket[b]} ${t}`));
    push('http_request_duration_seconds', `http_request_duration_seconds_count{${svc}} ${count} ${t}`);
    push('http_request_duration_seconds', `http_request_duration_seconds_sum{${svc}} ${sum.toFixed(3)} ${t}`);
    push('http_requests', `http_requests_total{${svc},code="200"} ${ok} ${t}`);
    if (err > 0) push('http_requests', `http_requests_total{${svc},code="503"} ${err} ${t}`);
    push('http_requests', `http_requests_total{service="billing",code="200"} ${otherOk} ${t}`);
    push('worker_queue_depth', `worker_queue_depth{${svc}} ${(7 + 0.3 * noise(i, 3)).toFixed(2)} ${t}`);
    const active = broken ? 29 + Math.round(noise(i, 4)) : 8 + Math.round(2 * noise(i, 5));
    push('db_pool_active_connections', `db_pool_active_connections{${svc}} ${active} ${t}`);
    push('db_pool_max_connections', `db_pool_max_connections{${svc}} 30 ${t}`);
    push('app_build', `app_build_info{${svc},version="${t >= DEPLOY ? 'v7.1.0' : 'v7.0.9'}"} 1 ${t}`);
    // No service label: found through the pod name.
    push('kube_pod_container_status_restarts', `kube_pod_container_status_restarts_total{pod="orders-api-5c8d7-x2k",container="app"} ${restarts} ${t}`);
  }
  const types: Record<string, string> = {
    http_request_duration_seconds: 'histogram',
    http_requests: 'counter',
    worker_queue_depth: 'gauge',
    db_pool_active_connections: 'gauge',
    db_pool_max_connections: 'gauge',
    app_build: 'info',
    kube_pod_container_status_restarts: 'counter',
  };
  const out: string[] = [];
  for (const [family, lines] of Object.entries(fam)) {
    out.push(`# TYPE ${family} ${types[family]}`);
    // Series by series, each in time order.
    const bySeries = new Map<string, string[]>();
    for (const l of lines) {
      const key = l.slice(0, l.lastIndexOf('}') + 1);
      bySeries.set(key, [...(bySeries.get(key) ?? []), l]);
    }
    for (const ls of bySeries.values()) out.push(...ls);
  }
  out.push('# EOF', '');
  return out.join('\n');
}

function agentInput(
  url: string,
  service: string,
  window: { start: string; end: string },
  now = window.end,
  words: { title: string; report: string } = { title: 'test', report: 'test' },
): AgentInput {
  return {
    agent: 'metrics_agent',
    task: 'What changed in the metrics?',
    incident: { id: 'INC-T', title: words.title, service, severity: 'SEV2', report: words.report, window, now },
    sources: { prometheusUrl: url },
    model: null,
  };
}

const iso = (t: number) => new Date(t * 1000).toISOString();
const minutesApart = (a: string, b: string) => Math.abs(Date.parse(a) - Date.parse(b)) / 60_000;

afterAll(closeDispatchers);

describe('change detection (pure)', () => {
  it('finds a step change with its onset and ignores noise', () => {
    const pts: Array<[number, number]> = [];
    for (let i = 0; i < 200; i++) pts.push([i * 15, (i >= 150 ? 50 : 10) + noise(i, 9)]);
    const c = analyze(pts, { baselineEnd: 100 * 15 });
    expect(c.onset).toBe(150 * 15);
    expect(c.before).toBeCloseTo(10, 0);
    expect(c.after).toBeCloseTo(50, 0);
    expect(c.score).toBeGreaterThan(0);
    const flat = analyze(pts.map(([t], i) => [t, 10 + noise(i, 9)] as [number, number]), { baselineEnd: 100 * 15 });
    expect(flat.score).toBe(0);
    expect(flat.onset).toBeNull();
  });
  it('ignores a single-scrape spike', () => {
    const pts: Array<[number, number]> = [];
    for (let i = 0; i < 200; i++) pts.push([i * 15, i === 160 ? 500 : 10]);
    expect(analyze(pts, { baselineEnd: 100 * 15 }).score).toBe(0);
  });
  it('dates a change at its real start, not at an earlier blip that recovered', () => {
    const pts: Array<[number, number]> = [];
    // baseline 0-99, a 5-minute blip at 110-129, calm, the real change from 190 on
    for (let i = 0; i < 300; i++) pts.push([i * 15, (i >= 110 && i < 130) || i >= 190 ? 40 + noise(i, 3) : 10 + noise(i, 4)]);
    const c = analyze(pts, { baselineEnd: 100 * 15 });
    expect(c.onset).toBe(190 * 15);
    expect(c.end).toBe(299 * 15);
  });
  it('with no history, takes the baseline from what precedes the change', () => {
    const pts: Array<[number, number]> = [];
    // data start 2 minutes (8 points) before the fault; the first quarter would be mostly faulty
    for (let i = 0; i < 120; i++) pts.push([i * 15, (i >= 8 ? 30 : 5) + 0.3 * noise(i, 6)]);
    const c = analyze(pts, { baselineEnd: 0 });
    expect(c.onset).toBe(8 * 15);
    expect(c.before).toBeCloseTo(5, 0);
    expect(c.after).toBeCloseTo(30, 0);
    expect(c.baselinePoints).toBe(8);
    // noise alone, with no history, is not a change
    const flat = analyze(pts.map(([t], i) => [t, 100 + 8 * noise(i, 7)] as [number, number]), { baselineEnd: 0 });
    expect(flat.score).toBe(0);
  });
  it('matches service names as tokens', () => {
    expect(containsToken('orders-api-5c8d7-x2k', 'orders-api')).toBe(true);
    expect(containsToken('neworders-api', 'orders-api')).toBe(false);
  });
});

describe('metrics agent against a real Prometheus (synthetic service)', () => {
  let prom: PrometheusServer;
  let dir: string;
  let g: Gathered;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'bulkhead-metrics-test-'));
    const om = join(dir, 'synthetic.om');
    await writeFile(om, syntheticOm());
    prom = await startPrometheus({ omFiles: [om] });
    g = await gatherMetrics(agentInput(prom.url, 'orders-api', { start: iso(WINDOW_START), end: iso(T_END) }), quiet);
    if (process.env.BULKHEAD_TEST_LOG) console.error(`${g.digest}\n${JSON.stringify(g.evidence, null, 1)}`);
  });
  afterAll(async () => {
    await prom?.stop();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('ranks the changed series with onset, before/after and PromQL', () => {
    const names = g.evidence.anomalies.map((a) => a.name);
    expect(g.warnings).toEqual([]);
    const p99 = g.evidence.anomalies.find((a) => a.name === 'p99 http_request_duration_seconds')!;
    expect(p99).toBeDefined();
    expect(p99.unit).toBe('ms');
    expect(p99.before).toBeGreaterThan(100);
    expect(p99.before).toBeLessThan(200);
    expect(p99.after).toBeGreaterThan(1500);
    expect(p99.promql).toBe('histogram_quantile(0.99, sum by (le) (rate(http_request_duration_seconds_bucket{service="orders-api"}[2m])))');
    const ratio = g.evidence.anomalies.find((a) => a.name.startsWith('error ratio http_requests_total'))!;
    expect(ratio.unit).toBe('%');
    expect(ratio.after).toBeGreaterThan(10);
    expect(ratio.after).toBeLessThan(14);
    const pool = g.evidence.anomalies.find((a) => a.name === 'db_pool_active_connections')!;
    expect(pool.after).toBeCloseTo(29, 0);
    expect(names.some((n) => n.startsWith('kube_pod_container_status_restarts_total'))).toBe(true);
    // the flat distractor and the other service stay out
    expect(names).not.toContain('worker_queue_depth');
    expect(g.evidence.anomalies.every((a) => !a.promql.includes('billing'))).toBe(true);
    for (const a of g.evidence.anomalies) {
      // restarts begin 5 minutes into the incident, everything else at the onset
      const at = a.name.startsWith('kube_pod') ? ONSET + 300 : ONSET;
      expect(minutesApart(a.onset!, iso(at)), a.name).toBeLessThanOrEqual(2);
    }
    const scores = g.evidence.anomalies.map((a) => a.score!);
    expect([...scores].sort((a, b) => b - a)).toEqual(scores);
  });

  it('dates the onset, sees the rollout and writes a digest with units', () => {
    expect(minutesApart(g.evidence.onset!, iso(ONSET))).toBeLessThanOrEqual(1);
    expect(g.evidence.changes.map((c) => c.id)).toEqual(['v7.1.0']);
    expect(minutesApart(g.evidence.changes[0].ts, iso(DEPLOY))).toBeLessThanOrEqual(1);
    expect(g.evidence.suspectedChange).toBe('v7.1.0');
    expect(g.digest).toMatch(/p99 http_request_duration_seconds: 1\d\d ms -> \d{4} ms/);
    expect(g.digest).toMatch(/db_pool_active_connections: \d+ -> 29 of 30 max/);
    expect(g.digest).toMatch(/Unchanged: .*worker_queue_depth/);
    expect(g.evidence.timeline.length).toBeGreaterThan(2);
  });

  it('offers PromQL tools that evaluate at the incident time', async () => {
    const byName = Object.fromEntries(g.tools.map((t) => [t.name, t]));
    expect(Object.keys(byName).sort()).toEqual(['list_metrics', 'promql_query', 'promql_range']);
    const now = await byName.promql_query.run({ query: 'max(db_pool_active_connections{service="orders-api"})' });
    expect(now).toMatch(/ 29|28|30/);
    const early = await byName.promql_query.run({ query: 'max(db_pool_max_connections)', time: iso(WINDOW_START) });
    expect(early).toContain(' 30');
    const range = await byName.promql_range.run({ query: 'sum(rate(http_requests_total{code="503"}[2m]))', step: '5m' });
    expect(range).toMatch(/min .* median .* max/);
    expect(await byName.list_metrics.run({})).toContain('http_request_duration_seconds (histogram');
    await expect(byName.promql_query.run({ query: 'sum(' })).rejects.toThrow(/bad_data|parse/);
  });

  it('finds the service by a label it was not told about and reports an unknown service cleanly', async () => {
    const none = await gatherMetrics(agentInput(prom.url, 'no-such-service', { start: iso(WINDOW_START), end: iso(T_END) }), quiet);
    expect(none.warnings.join(' ')).toMatch(/no series are labelled/);
    const off = await gatherMetrics({ ...agentInput(prom.url, 'orders-api', { start: iso(WINDOW_START), end: iso(T_END) }), sources: {} }, quiet);
    expect(off.warnings).toEqual(['no prometheusUrl in sources']);
  });
});

// ---------- every scenario in the repository ----------

interface Expected {
  onset?: string;
  rootCause?: string;
  anomalies?: string[];
  facts?: {
    p99LatencyMs?: { before: number; after: number };
    errorRatePercent?: number;
    cpuPercent?: number;
    dbPool?: { active: number; max: number };
    healthyDependencies?: string[];
  };
  [k: string]: unknown;
}

const near = (v: number | null | undefined, want: number, tol = 0.1) => v != null && Math.abs(v - want) <= tol * Math.abs(want);

const scenarioDirs = existsSync(join(ROOT, 'scenarios'))
  ? readdirSync(join(ROOT, 'scenarios'))
      .map((d) => join(ROOT, 'scenarios', d))
      .filter((d) => existsSync(join(d, 'expected.yaml')) && existsSync(join(d, 'metrics')) && readdirSync(join(d, 'metrics')).some((f) => f.endsWith('.om')))
  : [];

describe.skipIf(scenarioDirs.length === 0).each(scenarioDirs)('scenario %s', (dir) => {
  let prom: PrometheusServer;
  let g: Gathered;
  const scenario = parseYaml(readFileSync(join(dir, 'scenario.yaml'), 'utf8'));
  const expected = parseYaml(readFileSync(join(dir, 'expected.yaml'), 'utf8')) as Expected;

  beforeAll(async () => {
    const omFiles = readdirSync(join(dir, 'metrics')).filter((f) => f.endsWith('.om')).map((f) => join(dir, 'metrics', f));
    prom = await startPrometheus({ omFiles });
    g = await gatherMetrics(agentInput(prom.url, scenario.service, scenario.window, scenario.now, scenario), quiet);
    if (process.env.BULKHEAD_TEST_LOG) console.error(g.digest);
  });
  afterAll(() => prom?.stop());

  it('finds the onset within 2 minutes', () => {
    if (!expected.onset) return;
    expect(g.evidence.onset).not.toBeNull();
    expect(minutesApart(g.evidence.onset!, expected.onset)).toBeLessThanOrEqual(2);
  });

  it('names a culprit the ground truth blames, never a healthy dependency', () => {
    const culprit = g.evidence.culprit;
    for (const healthy of expected.facts?.healthyDependencies ?? []) expect(culprit).not.toBe(healthy);
    if (culprit && culprit !== scenario.service) expect((expected.rootCause ?? '').toLowerCase()).toContain(culprit.toLowerCase());
    // The one bundled incident caused by a dependency that logs nothing of it in the service's metrics.
    if (scenario.id === 'search-degraded') expect(culprit).toBe('elasticsearch');
  });

  it('reports the expected anomalies', () => {
    for (const metric of expected.anomalies ?? []) {
      const hit = g.evidence.anomalies.some((a) => a.name.includes(metric) || a.promql.includes(metric));
      expect(hit, `${metric} among ${g.evidence.anomalies.map((a) => a.name).join(', ')}`).toBe(true);
    }
  });

  it('reports the incident numbers (before -> after)', () => {
    const f = expected.facts ?? {};
    const list = g.evidence.anomalies;
    const show = list.map((a) => `${a.name}: ${a.before} -> ${a.after} ${a.unit ?? ''}`).join('; ');
    if (f.p99LatencyMs) {
      const p99 = list.filter((a) => a.name.startsWith('p99') && a.unit === 'ms');
      expect(p99.some((a) => near(a.before, f.p99LatencyMs!.before) && near(a.after, f.p99LatencyMs!.after)), show).toBe(true);
    }
    if (f.errorRatePercent) {
      expect(list.some((a) => a.name.startsWith('error ratio') && near(a.after, f.errorRatePercent!)), show).toBe(true);
    }
    if (f.cpuPercent) {
      expect(list.some((a) => /cpu/.test(a.name) && a.unit === '%' && near(a.after, f.cpuPercent!)), show).toBe(true);
    }
    if (f.dbPool) {
      expect(list.some((a) => near(a.after, f.dbPool!.active, 0.05)), show).toBe(true);
      expect(g.digest).toContain(`${f.dbPool.active} of ${f.dbPool.max} max`);
    }
  });
});

describe('units by naming convention (pure)', () => {
  it('reads names as words, never substrings', async () => {
    const { unitOf, looksLikeShare } = await import('../src/agents/metrics/units');
    const shares = (n: string) => looksLikeShare(n, [0.2, 0.5, 0.9]);
    // "load" inside "workload" is not a percentage, and a count of ops never is.
    expect(shares('pg_stat_database_workload_ops')).toBe(false);
    expect(shares('batch_workload_ops')).toBe(false);
    expect(shares('node_load1')).toBe(false);
    expect(shares('cpu_usage_requests')).toBe(false);
    expect(shares('process_cpu_usage')).toBe(true);
    expect(shares('node_cpu_utilization')).toBe(true);
    expect(shares('disk_saturation')).toBe(true);
    expect(looksLikeShare('process_cpu_usage', [0.5, 3])).toBe(false);
    expect(unitOf('http_server_requests_seconds')).toEqual({ unit: 'ms', scale: 1000 });
    expect(unitOf('http_server_requests_seconds_bucket')).toEqual({ unit: 'ms', scale: 1000 });
    expect(unitOf('process_cpu_seconds_total')).toEqual({ unit: 'ms', scale: 1000 });
    expect(unitOf('request_latency_microseconds')).toEqual({ unit: 'ms', scale: 0.001 });
    expect(unitOf('gc_pause_milliseconds_sum')).toEqual({ unit: 'ms', scale: 1 });
    expect(unitOf('jvm_memory_used_bytes')).toEqual({ unit: 'bytes', scale: 1 });
    expect(unitOf('cache_hit_ratio')).toEqual({ unit: '%', scale: 100 });
    expect(unitOf('disk_used_percent')).toEqual({ unit: '%', scale: 1 });
    expect(unitOf('batch_workload_ops_total')).toEqual({ unit: '', scale: 1 });
    expect(unitOf('seconds_since_boot_count')).toEqual({ unit: '', scale: 1 });
  });
});

describe('ranking by how well a change explains the symptom (pure)', () => {
  it('keeps causes and coincident changes, discounts consequences and unlinked neighbours that moved later', async () => {
    const { explains } = await import('../src/agents/metrics/index');
    const f = (at: number, scope: 'service' | 'related', relation?: 'dependency' | 'namespace') =>
      ({ spec: { scope, relation }, change: { onset: at } }) as unknown as Parameters<typeof explains>[0];
    const S = 10_000;
    expect(explains(f(S - 600, 'related', 'namespace'), S, 15)).toBe(1);
    expect(explains(f(S, 'service'), S, 15)).toBe(1);
    expect(explains(f(S + 60, 'related', 'dependency'), S, 15)).toBe(1);
    expect(explains(f(S + 120, 'related', 'namespace'), S, 15)).toBeLessThan(1);
    expect(explains(f(S + 1200, 'service'), S, 15)).toBeLessThan(1);
  });
});

describe('the time the reporter gives (pure)', () => {
  it('reads "since about 14:30 UTC" inside the window, and ignores other zones', async () => {
    const { reportedTime } = await import('../src/agents/metrics/symptom');
    const ws = Date.parse('2026-03-28T14:20:00Z') / 1000;
    const we = Date.parse('2026-03-28T15:00:00Z') / 1000;
    expect(reportedTime('checkout is failing for many customers since about 14:30 UTC.', ws, we)).toBe(Date.parse('2026-03-28T14:30:00Z') / 1000);
    expect(reportedTime('slow since roughly 14:45', ws, we)).toBe(Date.parse('2026-03-28T14:45:00Z') / 1000);
    expect(reportedTime('errors since 15:30 CET', ws, we)).toBeNull();
    expect(reportedTime('no time given, p99 is 1450 ms', ws, we)).toBeNull();
    // a window across midnight
    const ms = Date.parse('2026-03-28T23:40:00Z') / 1000;
    expect(reportedTime('down since 00:05 UTC', ms, ms + 3600)).toBe(Date.parse('2026-03-29T00:05:00Z') / 1000);
  });
});

describe('symptom onset (pure)', () => {
  const finding = (kind: 'latency' | 'ratio', onset: number, end: number, score: number) =>
    ({
      spec: { scope: 'service', kind, family: kind === 'latency' ? 'http_server_requests_seconds' : 'http_server_requests_total' },
      unit: kind === 'latency' ? 'ms' : '%',
      change: { onset, end, score, direction: 'up' },
    }) as unknown as import('../src/agents/metrics/scan').Finding;
  const T = (hhmm: string) => Date.parse(`2026-06-02T${hhmm}:00Z`) / 1000;

  it('prefers the change that agrees with the time the reporter gives', async () => {
    const { symptomOnset } = await import('../src/agents/metrics/symptom');
    const drift = finding('latency', T('10:08'), T('11:00'), 5);
    const real = finding('ratio', T('10:40'), T('11:00'), 6.9);
    expect(symptomOnset([real, drift], 'Something is off with payments.', T('11:00')).onset).toBe(T('10:08'));
    expect(symptomOnset([real, drift], 'Something is off with payments since 10:40 UTC.', T('11:00'), T('10:40')).onset).toBe(T('10:40'));
  });
  it('does not let a recovered blip date the symptom', async () => {
    const { symptomOnset } = await import('../src/agents/metrics/symptom');
    const blip = finding('latency', T('10:08'), T('10:14'), 6);
    const real = finding('latency', T('10:40'), T('11:00'), 5);
    expect(symptomOnset([blip, real], 'It is slow.', T('11:00')).onset).toBe(T('10:40'));
  });
  it('names no onset when nothing credible moved', async () => {
    const { symptomOnset } = await import('../src/agents/metrics/symptom');
    const s = symptomOnset([finding('latency', T('10:08'), T('11:00'), 0.3)], 'slow?', T('11:00'));
    expect(s.onset).toBeNull();
  });
});
