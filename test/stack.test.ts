import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Connection } from '@temporalio/client';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { freePort, isPortFree } from '../src/stack/ports';
import { omFilesOf, startPrometheus, type PrometheusServer } from '../src/stack/prometheus';
import { SEARCH_ATTRIBUTES } from '../src/stack/temporal';
import { prometheusBin, promtoolBin, temporalBin } from '../src/stack/tools';

describe('tools and ports', () => {
  it('finds the binaries setup installs', () => {
    expect(temporalBin()).toMatch(/\.tools\/bin\/temporal$/);
    expect(prometheusBin()).toMatch(/prometheus$/);
    expect(promtoolBin()).toMatch(/promtool$/);
  });

  it('hands out free ports', async () => {
    const p = await freePort();
    expect(p).toBeGreaterThan(0);
    expect(await isPortFree(p)).toBe(true);
  });
});

describe('temporal dev server (global setup)', () => {
  it('answers and has the Bulkhead search attributes registered', async () => {
    const address = inject('temporalAddress');
    const conn = await Connection.connect({ address });
    try {
      const { customAttributes } = await conn.operatorService.listSearchAttributes({ namespace: 'default' });
      for (const name of Object.keys(SEARCH_ATTRIBUTES)) {
        // INDEXED_VALUE_TYPE_KEYWORD = 2
        expect(customAttributes?.[name], name).toBe(2);
      }
    } finally {
      await conn.close();
    }
  });

  it('reports its port as taken', async () => {
    const port = Number(inject('temporalAddress').split(':')[1]);
    expect(await isPortFree(port)).toBe(false);
  });
});

describe('prometheus', () => {
  let dir: string;
  let prom: PrometheusServer;

  // Timestamps are in seconds (OpenMetrics); 1773583200 = 2026-03-15T14:00:00Z.
  const om = [
    '# TYPE http_requests counter',
    '# HELP http_requests Requests served.',
    'http_requests_total{service="checkout",code="500"} 10 1773583200',
    'http_requests_total{service="checkout",code="500"} 70 1773583260',
    'http_requests_total{service="checkout",code="500"} 130 1773583320',
    '# TYPE db_pool_active gauge',
    'db_pool_active{service="checkout"} 12 1773583200',
    'db_pool_active{service="checkout"} 48 1773583260',
    'db_pool_active{service="checkout"} 48 1773583320',
    '# EOF',
    '',
  ].join('\n');

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'bulkhead-stack-test-'));
    await mkdir(join(dir, 'metrics'));
    await writeFile(join(dir, 'metrics', 'checkout.om'), om);
    await writeFile(join(dir, 'metrics', 'notes.txt'), 'not metrics');
    const t0 = Date.now();
    prom = await startPrometheus({ omFiles: await omFilesOf(dir) });
    if (process.env.BULKHEAD_TEST_LOG) console.error(`prometheus ready in ${Date.now() - t0} ms`);
  });

  afterAll(async () => {
    await prom?.stop();
    await rm(dir, { recursive: true, force: true });
  });

  it('lists only .om files of a scenario', async () => {
    expect(await omFilesOf(dir)).toEqual([join(dir, 'metrics', 'checkout.om')]);
    expect(await omFilesOf(join(dir, 'missing'))).toEqual([]);
  });

  async function instant(query: string, time: number): Promise<{ metric: Record<string, string>; value: [number, string] }[]> {
    const res = await fetch(`${prom.url}/api/v1/query?${new URLSearchParams({ query, time: String(time) })}`);
    const body = (await res.json()) as { status: string; data: { result: { metric: Record<string, string>; value: [number, string] }[] } };
    expect(body.status).toBe('success');
    return body.data.result;
  }

  it('answers PromQL over the backfilled history', async () => {
    const gauge = await instant('db_pool_active{service="checkout"}', 1773583290);
    expect(gauge).toHaveLength(1);
    expect(gauge[0]!.value[1]).toBe('48');

    const counter = await instant('http_requests_total{code="500"}', 1773583330);
    expect(counter[0]!.value[1]).toBe('130');

    // 60 more errors in the last 60 s -> 1/s (irate: rate() would extrapolate to the window edges).
    const rate = await instant('irate(http_requests_total[3m])', 1773583320);
    expect(Number(rate[0]!.value[1])).toBeCloseTo(1, 5);
  });

  it('stops listening at stop', async () => {
    const other = await startPrometheus({ omFiles: [] });
    await other.stop();
    const res = await fetch(`${other.url}/-/ready`).catch(() => null);
    expect(res).toBeNull();
  });
});
