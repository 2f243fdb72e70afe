/**
 * The brain's endpoint (Anthropic Messages stand-in) misbehaving: 529, 429 with retry-after and
 * 5xx are retried (by the SDK, then by Temporal) and the investigation completes; a rejected key
 * (401) fails it at once with a reason naming the setting, and every sandbox is deleted.
 * Heavy (BULKHEAD_HEAVY_TESTS=1): a brain that never recovers ends `failed`, bounded in time.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Report } from '../../src/schemas/report';
import { omFilesOf } from '../../src/stack/prometheus';
import { dispatchReply, endReply, startAnthropicStandin, type AnthropicStandin, type MessagesScript } from '../support/anthropic-standin';
import { SCENARIO_DIR } from '../support/process-stack';
import { startTestStack, type TestStack } from '../support/worker';

const HEAVY = process.env.BULKHEAD_HEAVY_TESTS === '1';
const KEY = 'sk-ant-fault-test-0123456789abcdef';
const DISPATCH = dispatchReply('All three, in parallel.', [
  { agent: 'metrics_agent', task: 'Golden signals of checkout-service around the incident' },
  { agent: 'log_agent', task: 'Top error signatures in checkout-service logs' },
  { agent: 'runbook_agent', task: 'Past incidents like checkout pool exhaustion after a deploy' },
]);
const END = endReply('The deploy leaks connections.\n\n```json\n{"rootCause":"connection leak in v2.14.3","recommendations":["roll back"]}\n```');
// Short server-given waits so SDK backoff stays quick in tests.
const FAST = { 'retry-after-ms': '200' };

describe('brain endpoint faults', () => {
  let stack: TestStack;
  let brain: AnthropicStandin;
  let script: MessagesScript;
  beforeAll(async () => {
    brain = await startAnthropicStandin((body, i) => script(body, i));
    stack = await startTestStack({
      omFiles: await omFilesOf(SCENARIO_DIR),
      env: { ANTHROPIC_API_KEY: KEY, ANTHROPIC_BASE_URL: brain.url, BULKHEAD_BRAIN_MODEL: 'claude-standin' },
    });
  });
  afterAll(async () => {
    await stack?.stop();
    await brain?.close();
  });

  const investigate = async (id: string) => {
    brain.requests.length = 0;
    const t0 = Date.now();
    const handle = await stack.client.workflow.start('investigateIncident', { taskQueue: stack.taskQueue, workflowId: id, args: [{ scenarioDir: SCENARIO_DIR }] });
    return { report: Report.parse(await handle.result()), seconds: (Date.now() - t0) / 1000 };
  };

  it('retries 529, 429 with retry-after and 500, then completes', async () => {
    const answers = [
      { status: 529, headers: FAST },
      { status: 429, headers: { 'retry-after': '1' } },
      DISPATCH,
      { status: 500, headers: FAST },
      END,
    ];
    script = (_b, i) => answers[i] ?? { status: 400, message: 'unexpected extra request' };
    const { report } = await investigate(`incident-brain-flaky-${Date.now()}`);
    expect(report.status, JSON.stringify(report.reasons)).toBe('completed');
    expect(report.brain).toMatchObject({ mode: 'anthropic', turns: 2 });
    expect(report.rootCause).toContain('connection leak');
    expect(brain.requests).toHaveLength(5);
    // The 429 asked for a second: the retry waited for it.
    expect(brain.requests[2]!.at - brain.requests[1]!.at).toBeGreaterThanOrEqual(900);
    expect(await stack.local.list()).toEqual([]);
  });

  it('fails at once on a rejected key (401) mid-investigation, says so, deletes every sandbox', async () => {
    script = (_b, i) => (i === 0 ? DISPATCH : { status: 401, message: 'invalid x-api-key' });
    const { report } = await investigate(`incident-brain-401-${Date.now()}`);
    expect(report.status).toBe('failed');
    expect(report.reasons.join('\n')).toMatch(/ANTHROPIC_API_KEY rejected \(401\)/);
    expect(JSON.stringify(report)).not.toContain(KEY);
    // Non-retryable: no second attempt, by the SDK or by Temporal.
    expect(brain.requests).toHaveLength(2);
    expect(report.specialists).toHaveLength(3);
    for (const s of report.specialists) expect(s.sandbox.deleted).toBe(true);
    expect(await stack.local.list()).toEqual([]);
  });

  it.skipIf(!HEAVY)('gives up on a brain that stays down, bounded (heavy: BULKHEAD_HEAVY_TESTS=1)', async () => {
    script = () => ({ status: 503, headers: FAST });
    const { report, seconds } = await investigate(`incident-brain-down-${Date.now()}`);
    expect(report.status).toBe('failed');
    expect(report.reasons.join('\n')).toMatch(/brain: .*unavailable \(503\)/);
    // 5 Temporal attempts of 3 SDK requests each.
    expect(brain.requests).toHaveLength(15);
    expect(seconds).toBeLessThan(180);
    expect(await stack.local.list()).toEqual([]);
  }, 300_000);
});
