/**
 * SIGKILL the worker while the brain (Anthropic stand-in) is thinking about the specialists'
 * results: a new worker retries the turn (noticed through the turn's heartbeat) and the
 * investigation concludes without running any specialist again.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Report } from '../../src/schemas/report';
import { dispatchReply, endReply, startAnthropicStandin, type AnthropicStandin } from '../support/anthropic-standin';
import { startProcessStack, type ProcessStack } from '../support/process-stack';
import { readRunLog, until } from '../support/until';

const CONCLUSION = 'Root cause: the 14:28 deploy leaks pooled connections.\n\n```json\n{"rootCause":"connection leak in checkout-service-v2.14.3","recommendations":["roll back"]}\n```';

describe('worker killed during a brain turn', () => {
  let stack: ProcessStack;
  let brain: AnthropicStandin;
  beforeAll(async () => {
    // Turn 1 dispatches all three; the first turn-2 request is held open (the worker dies
    // waiting on it); the retried turn 2 concludes.
    brain = await startAnthropicStandin(async (_body, i) => {
      if (i === 0) {
        return dispatchReply('Looking at all three sources.', [
          { agent: 'metrics_agent', task: 'Golden signals of checkout-service around the incident' },
          { agent: 'log_agent', task: 'Top error signatures in checkout-service logs' },
          { agent: 'runbook_agent', task: 'Past incidents like checkout pool exhaustion after a deploy' },
        ]);
      }
      if (i === 1) await new Promise((r) => setTimeout(r, 120_000));
      return endReply(CONCLUSION);
    });
    stack = await startProcessStack({ env: { ANTHROPIC_API_KEY: 'sk-ant-test-key', ANTHROPIC_BASE_URL: brain.url, BULKHEAD_BRAIN_MODEL: 'claude-standin' } });
  });
  afterAll(async () => {
    await stack?.stop();
    await brain?.close();
  });

  it('retries the turn on a new worker; no specialist runs again', async () => {
    const w1 = await stack.spawn();
    const handle = await stack.start(`incident-brainkill-${Date.now()}`);
    await until(() => brain.requests.length >= 2, 120_000, 'the second brain turn');
    await w1.kill();
    const runsBefore = await readRunLog(stack.runLog);
    expect(runsBefore.filter((e) => e.event === 'end' && e.exitCode === 0)).toHaveLength(3);

    await stack.spawn();
    const report = Report.parse(await handle.result());
    expect(report.status, JSON.stringify(report.reasons)).toBe('completed');
    expect(report.brain).toMatchObject({ mode: 'anthropic', turns: 2 });
    expect(report.specialists).toHaveLength(3);
    expect(brain.requests).toHaveLength(3);
    // Nothing ran after the kill: the finished specialists' results came from history.
    expect(await readRunLog(stack.runLog)).toEqual(runsBefore);
    expect(await stack.local.list()).toEqual([]);
  }, 180_000);
});
