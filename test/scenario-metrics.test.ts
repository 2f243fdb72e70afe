/**
 * Issue 10 finding 8: a scenario's metrics are served for that scenario only. A worker with no
 * PROMETHEUS_URL (what `bulkhead dev` runs, and a worker on TEMPORAL_ADDRESS) starts one
 * Prometheus per investigated scenario; the metrics sandbox of one incident cannot read another
 * incident's series, and each investigation's metrics come from its own scenario.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createScenarioActivities } from '../src/activities/scenario';
import { LocalDriver } from '../src/sandbox/local';
import { loadPolicy, resolvePolicy } from '../src/sandbox/policy';
import { Report } from '../src/schemas/report';
import { scenarioPrometheusCount, stopScenarioPrometheus } from '../src/stack/scenario-prometheus';
import { REPO_ROOT } from '../src/stack/tools';
import { startTestStack, type TestStack } from './support/worker';

const CHECKOUT = path.join(REPO_ROOT, 'scenarios/checkout-outage');
const SEARCH = path.join(REPO_ROOT, 'scenarios/search-degraded');

/** Distinct `service` label values Prometheus at url holds. */
async function services(url: string): Promise<string[]> {
  const r = (await (await fetch(`${url}/api/v1/label/service/values?start=0&end=9999999999`)).json()) as { data: string[] };
  return r.data.sort();
}

describe('one Prometheus per scenario', () => {
  const { loadScenario } = createScenarioActivities({});
  let a: string;
  let b: string;
  beforeAll(async () => {
    a = (await loadScenario({ dir: CHECKOUT })).sources.prometheusUrl!;
    b = (await loadScenario({ dir: SEARCH })).sources.prometheusUrl!;
  });
  afterAll(() => stopScenarioPrometheus());

  it('each scenario gets its own server, holding only its own series, shared by repeat investigations', async () => {
    expect(a).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(b).not.toBe(a);
    expect((await loadScenario({ dir: CHECKOUT })).sources.prometheusUrl).toBe(a);
    expect(scenarioPrometheusCount()).toBe(2);
    const sa = await services(a);
    const sb = await services(b);
    expect(sa).toContain('checkout-service');
    expect(sb).toContain('search-api');
    expect(sa).not.toContain('search-api');
    expect(sb).not.toContain('checkout-service');
  });

  it("a metrics sandbox for one incident reaches its Prometheus and is refused the other's", async () => {
    const root = await mkdtemp(path.join(tmpdir(), 'bh-sbx-h-inputs-metrics-'));
    const driver = new LocalDriver({ root });
    const sources = (await loadScenario({ dir: CHECKOUT })).sources;
    const policy = resolvePolicy(await loadPolicy('metrics_agent'), 'run', { prometheus: sources.prometheusUrl }, sources);
    const id = `bh-test-metrics-${Date.now()}-0`;
    await driver.create({ id, agent: 'metrics_agent', owner: 'test', readOnly: policy.readOnly });
    try {
      await driver.applyPolicy(id, policy);
      const get = async (url: string) => {
        const r = await driver.exec(id, ['/bin/sh', '-c', `curl -s --max-time 10 --noproxy '' -x "$HTTP_PROXY" -o /dev/null -w '%{http_code}' '${url}/api/v1/query?query=up'`], { timeoutMs: 60_000 });
        return r.stdout.trim();
      };
      expect(await get(a)).toBe('200');
      expect(await get(b)).toBe('403');
      const refused = await driver.denials(id);
      expect(refused.map((d) => d.port)).toContain(Number(new URL(b).port));
    } finally {
      await driver.delete(id);
      await rm(root, { recursive: true, force: true });
    }
  });

  it('stopping releases every server', async () => {
    await stopScenarioPrometheus();
    expect(scenarioPrometheusCount()).toBe(0);
    await expect(fetch(`${a}/-/ready`)).rejects.toThrow();
  });
});

describe('a worker with no PROMETHEUS_URL (dev, TEMPORAL_ADDRESS) uses the scenario\'s own metrics', () => {
  let stack: TestStack;
  beforeAll(async () => {
    stack = await startTestStack({});
  });
  afterAll(async () => {
    await stack?.stop();
    await stopScenarioPrometheus();
  });

  it('two incidents investigated side by side each see their own service', async () => {
    const start = (dir: string, name: string) =>
      stack.client.workflow.start('investigateIncident', { taskQueue: stack.taskQueue, workflowId: `incident-${name}-${Date.now()}`, args: [{ scenarioDir: dir }] });
    const [ra, rb] = await Promise.all([start(CHECKOUT, 'own-metrics-a'), start(SEARCH, 'own-metrics-b')]).then((hs) => Promise.all(hs.map((h) => h.result())));
    const metricsOf = (r: unknown) => Report.parse(r).specialists.filter((s) => s.agent === 'metrics_agent');
    for (const [r, mine, other] of [[ra, 'checkout-service', 'search-api'], [rb, 'search-api', 'checkout-service']] as const) {
      const m = metricsOf(r);
      expect(m.length).toBeGreaterThan(0);
      expect(m.every((s) => s.status === 'completed'), JSON.stringify(m.map((s) => s.error))).toBe(true);
      const text = m.map((s) => s.summary).join('\n');
      expect(text).toContain(mine);
      expect(text).not.toContain(other);
      expect(m.flatMap((s) => s.denials)).toEqual([]);
    }
    expect(await stack.local.list()).toEqual([]);
  });
});
