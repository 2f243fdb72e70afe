import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { renderMarkdown } from '../src/report/markdown';
import { mdText } from '../src/report/text';
import { type Denial, Report } from '../src/schemas/report';
import { omFilesOf } from '../src/stack/prometheus';
import { REPO_ROOT } from '../src/stack/tools';
import { investigationProgress } from '../src/workflows/progress';
import { withProbe } from './support/probe-driver';
import { startTestStack, type TestStack } from './support/worker';

const scenarioDir = path.join(REPO_ROOT, 'scenarios/checkout-outage');
const curl = (url: string) => `curl -sS --max-time 5 --noproxy '' -x "$HTTP_PROXY" -o /dev/null '${url}'`;

describe("a log agent's refused connections, end to end", () => {
  let stack: TestStack;
  let probe: ReturnType<typeof withProbe>;
  let promPort: number;
  beforeAll(async () => {
    // Real Prometheus (the metrics agent must still succeed), real sandboxes, offline brain. The
    // log agent first tries what its policy does not allow: the metrics agent's Prometheus, the
    // brain's API and an outside host.
    stack = await startTestStack({
      omFiles: await omFilesOf(scenarioDir),
      wrapDriver: (d) => {
        probe = withProbe(d, 'log_agent', () =>
          [curl(`${stack.prometheusUrl}/api/v1/query?query=up`), curl('https://api.anthropic.com/v1/messages'), curl('https://example.com/'), 'true'].join('; '),
        );
        return probe.driver;
      },
    });
    promPort = Number(new URL(stack.prometheusUrl!).port);
  });
  afterAll(() => stack?.stop());

  it('lists them in the report and shows them in the progress while the investigation runs', async () => {
    expect(promPort).toBeGreaterThan(0);
    const handle = await stack.client.workflow.start('investigateIncident', {
      taskQueue: stack.taskQueue,
      workflowId: `incident-test-denials-${Date.now()}`,
      args: [{ scenarioDir }],
    });
    // Watch the progress query the way `bulkhead watch` does, until the report is in.
    const seenWhileRunning: Denial[][] = [];
    let done = false;
    const result = handle.result().finally(() => (done = true));
    while (!done) {
      const p = await handle.query(investigationProgress).catch(() => null);
      const logs = p?.specialists.find((s) => s.agent === 'log_agent');
      if (p?.status === 'running' && logs?.denials.length) seenWhileRunning.push(logs.denials);
      await new Promise((r) => setTimeout(r, 100));
    }
    const report = Report.parse(await result);
    expect(probe.probes).toHaveLength(1);

    const expected = [
      { host: '127.0.0.1', port: promPort },
      { host: 'api.anthropic.com', port: 443 },
      { host: 'example.com', port: 443 },
    ].map((hp) => ({ ...hp, binary: null, reason: 'host is not on the allow list' }));
    const logs = report.specialists.find((s) => s.agent === 'log_agent')!;
    expect(logs.status).toBe('completed');
    expect(logs.denials).toEqual(expect.arrayContaining(expected));
    expect(logs.denials).toHaveLength(expected.length);
    // The others tried nothing they may not do.
    for (const s of report.specialists.filter((x) => x.agent !== 'log_agent')) expect(s.denials).toEqual([]);
    expect(report.status).toBe('completed');

    expect(seenWhileRunning.length).toBeGreaterThan(0);
    expect(seenWhileRunning.at(-1)).toEqual(expect.arrayContaining(expected));

    // The human report says so, and says what the driver could not enforce.
    const md = renderMarkdown(report);
    expect(md).toContain(`- 127.0.0.1:${promPort}: host is not on the allow list`);
    expect(md).toContain('- example.com:443: host is not on the allow list');
    expect(report.sandboxDriver).toEqual({ kind: 'local', limitations: stack.local.limitations });
    expect(report.sandboxDriver.limitations.some((l) => /per-binary/.test(l))).toBe(true);
    for (const l of stack.local.limitations) expect(md).toContain(mdText(l));
  });
});
