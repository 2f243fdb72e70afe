/**
 * The specialists' model endpoint (OpenAI-compatible stand-in) misbehaving: 5xx, 429 with
 * retry-after, timeouts, malformed JSON. Each agent retries a bounded number of times, then
 * writes its summary from the evidence and says why; the investigation completes either way.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AgentName } from '../../src/schemas/agent';
import { Report } from '../../src/schemas/report';
import { omFilesOf } from '../../src/stack/prometheus';
import { startOpenAIStandin, type ChatRequestBody, type Standin, type StandinStep } from '../support/openai-standin';
import { SCENARIO_DIR } from '../support/process-stack';
import { startTestStack, type TestStack } from '../support/worker';

const agentOf = (body: ChatRequestBody) => /You are the (\w+) specialist/.exec(String(body.messages[0]?.content))?.[1] as AgentName;
const ANSWER: StandinStep = { content: 'Pool exhaustion after the 14:28 deploy; p99 120 ms -> 1450 ms.' };

describe('model endpoint faults', () => {
  let stack: TestStack;
  let model: Standin;
  /** What each agent's n-th request (from 0) gets; swapped per test. */
  let plan: (agent: AgentName, n: number) => StandinStep;
  const seen = new Map<AgentName, number>();
  beforeAll(async () => {
    model = await startOpenAIStandin([], {
      fallback: (body) => {
        const agent = agentOf(body);
        const n = seen.get(agent) ?? 0;
        seen.set(agent, n + 1);
        return plan(agent, n);
      },
      // The SDK honours retry-after-ms on errors: keeps backoff short where no other header says.
      retryAfterMs: 100,
    });
    stack = await startTestStack({
      omFiles: await omFilesOf(SCENARIO_DIR),
      env: {
        BULKHEAD_MODEL_URL: model.url,
        BULKHEAD_MODEL: 'standin-model',
        BULKHEAD_MODEL_TIMEOUT_MS: '1000',
        BULKHEAD_MODEL_RETRIES: '2',
      },
    });
  });
  afterAll(async () => {
    await stack?.stop();
    await model?.close();
  });

  const investigate = async (id: string) => {
    seen.clear();
    const t0 = Date.now();
    const handle = await stack.client.workflow.start('investigateIncident', { taskQueue: stack.taskQueue, workflowId: id, args: [{ scenarioDir: SCENARIO_DIR }] });
    const report = Report.parse(await handle.result());
    return { report, seconds: (Date.now() - t0) / 1000, by: Object.fromEntries(report.specialists.map((s) => [s.agent, s])) };
  };

  it('falls back to the evidence after bounded retries of 5xx, 429 + retry-after and timeouts', async () => {
    plan = (agent) =>
      agent === 'metrics_agent'
        ? { status: 503, error: 'overloaded' }
        : agent === 'log_agent'
          ? { status: 429, error: 'slow down', headers: { 'retry-after': '1', 'retry-after-ms': '1000' } }
          : { delayMs: 3000 };
    const { report, seconds, by } = await investigate(`incident-model-down-${Date.now()}`);
    expect(report.status, JSON.stringify(report.reasons)).toBe('completed');
    for (const s of report.specialists) {
      expect(s.status).toBe('completed');
      expect(s.summarizedBy).toBe('evidence');
      expect(s.sandbox.deleted).toBe(true);
    }
    expect(by.metrics_agent!.summary).toMatch(/model standin-model failed \(HTTP 503/);
    expect(by.log_agent!.summary).toMatch(/model standin-model failed \(HTTP 429/);
    expect(by.runbook_agent!.summary).toMatch(/model standin-model failed \(.*(timed out|timeout)/i);
    // One first try and BULKHEAD_MODEL_RETRIES=2 retries each, no more.
    expect(Object.fromEntries(seen)).toEqual({ metrics_agent: 3, log_agent: 3, runbook_agent: 3 });
    expect(seconds).toBeLessThan(120);
    expect(await stack.local.list()).toEqual([]);
  });

  it('retries a transient failure to a model answer; a malformed body falls back to the evidence', async () => {
    plan = (agent, n) =>
      agent === 'metrics_agent' ? { raw: '{"id": "chatcmpl-1", "choices": [' } : n === 0 ? { status: agent === 'log_agent' ? 500 : 429 } : ANSWER;
    const { report, by } = await investigate(`incident-model-flaky-${Date.now()}`);
    expect(report.status, JSON.stringify(report.reasons)).toBe('completed');
    expect(by.log_agent).toMatchObject({ summarizedBy: 'model', summary: expect.stringContaining('Pool exhaustion') });
    expect(by.runbook_agent).toMatchObject({ summarizedBy: 'model' });
    expect(by.metrics_agent!.summarizedBy).toBe('evidence');
    expect(by.metrics_agent!.summary).toMatch(/model standin-model failed/);
    expect(seen.get('metrics_agent')).toBeLessThanOrEqual(3);
    expect(await stack.local.list()).toEqual([]);
  });
});
