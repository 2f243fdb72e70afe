import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { renderMarkdown } from '../src/report/markdown';
import { Report } from '../src/schemas/report';
import { omFilesOf } from '../src/stack/prometheus';
import { REPO_ROOT } from '../src/stack/tools';
import { specialistId } from '../src/workflows/ids';
import {
  dispatchReply,
  endReply,
  startAnthropicStandin,
  type AnthropicStandin,
  type MessagesReply,
  type MessagesRequestBody,
  type MessagesScript,
} from './support/anthropic-standin';
import { activitySpans } from './support/activity-spans';
import { investigationHistoryText } from './support/history-text';
import { canariesOf, rawLogLines } from './support/scenario-secrets';
import { startTestStack, type TestStack } from './support/worker';

/**
 * The Anthropic brain end to end: the real workflow on the run's dev server, the real worker,
 * real local sandboxes, and the real @anthropic-ai/sdk talking to a local Messages stand-in.
 */
const scenarioDir = path.join(REPO_ROOT, 'scenarios/checkout-outage');
const MODEL = 'claude-standin';
const PLANTED = { email: 'planted.bob.e2e@example.org', token: 'tok_planted9a8b7c6d5e4f' };

const CONCLUSION = {
  rootCause: 'E2E-ROOT-CAUSE: deploy checkout-service-v2.14.3 leaks pooled DB connections in the payment retry path.',
  recommendations: ['E2E-REC-1: roll back checkout-service to v2.14.2', 'E2E-REC-2: close the connection in a finally block'],
  timeline: [{ ts: '2026-03-28T14:28:00Z', source: 'log_agent', event: 'deploy checkout-service-v2.14.3' }],
};

type Block = { type: string; tool_use_id?: string; is_error?: boolean; content?: unknown; text?: string };
const assistantTurns = (b: MessagesRequestBody) => b.messages.filter((m) => m.role === 'assistant').length;
const lastUserBlocks = (b: MessagesRequestBody): Block[] => {
  const c = b.messages[b.messages.length - 1]!.content;
  return typeof c === 'string' ? [{ type: 'text', text: c }] : (c as Block[]);
};

describe('Anthropic brain end to end (real workflow, worker, sandboxes, SDK)', () => {
  let stack: TestStack;
  let standin: AnthropicStandin;
  // One stand-in for the stack (its URL is worker configuration); each test swaps the script.
  let script: MessagesScript = () => ({ status: 500, message: 'no script' });
  const canaries = canariesOf(scenarioDir);
  const rawLines = rawLogLines(scenarioDir);

  beforeAll(async () => {
    standin = await startAnthropicStandin((body, i) => script(body, i));
    stack = await startTestStack({
      omFiles: await omFilesOf(scenarioDir),
      env: { ANTHROPIC_API_KEY: 'test-key', ANTHROPIC_BASE_URL: standin.url, BULKHEAD_BRAIN_MODEL: MODEL },
    });
  });
  afterAll(async () => {
    await stack?.stop();
    await standin?.close();
  });

  const run = (workflowId: string) =>
    stack.client.workflow.start('investigateIncident', { taskQueue: stack.taskQueue, workflowId, args: [{ scenarioDir }] });

  it('runs the brain loop: parallel dispatches, is_error for malformed calls, redacted follow-up, conclusion', async () => {
    const first = standin.requests.length;
    const turn2: MessagesRequestBody[] = [];
    let overloaded = false;
    script = (body) => {
      // The very first request is refused as overloaded: the SDK (or the activity) must retry it.
      if (!overloaded) {
        overloaded = true;
        return { status: 529, headers: { 'retry-after-ms': '200' } };
      }
      const turn = assistantTurns(body) + 1;
      if (turn === 1) {
        return {
          stop_reason: 'tool_use',
          content: [
            { type: 'text', text: 'Starting broad: metrics, logs and past incidents at once.' },
            { type: 'tool_use', id: 'toolu_e2e_metrics', name: 'dispatch', input: { agent: 'metrics_agent', task: 'Golden signals of checkout-service 14:20-15:00 UTC; anomalies with onset and any deploy.' } },
            { type: 'tool_use', id: 'toolu_e2e_logs', name: 'dispatch', input: { agent: 'log_agent', task: 'Top error signatures of checkout-service 14:20-15:00 UTC with counts and first-seen times.' } },
            { type: 'tool_use', id: 'toolu_e2e_unknown', name: 'dispatch', input: { agent: 'database_agent', task: 'Check the orders database.' } },
            { type: 'tool_use', id: 'toolu_e2e_runbooks', name: 'dispatch', input: { agent: 'runbook_agent', task: 'Past checkout-service incidents with connection pool exhaustion after a deploy.' } },
            { type: 'tool_use', id: 'toolu_e2e_notask', name: 'dispatch', input: { agent: 'log_agent' } },
          ],
        } satisfies MessagesReply;
      }
      if (turn === 2) {
        turn2.push(body);
        return dispatchReply('One follow-up on the failing payments.', [
          {
            agent: 'log_agent',
            task: `Follow the failing payments of customer ${PLANTED.email} paying with card token ${PLANTED.token}: which errors did they hit first?`,
          },
        ]);
      }
      return endReply(`The evidence agrees.\n\n\`\`\`json\n${JSON.stringify(CONCLUSION)}\n\`\`\``);
    };

    const handle = await run(`incident-brain-e2e-${Date.now()}`);
    const report = Report.parse(await handle.result());
    const requests = standin.requests.slice(first);

    // 529 retried: the first turn was asked twice, with the same conversation.
    expect(requests.length).toBe(4);
    expect(requests[1]!.raw).toBe(requests[0]!.raw);
    expect(requests.map((r) => r.body.model)).toEqual([MODEL, MODEL, MODEL, MODEL]);
    // The key travels in a header (this SDK sends it as a bearer token), never in history.
    expect(`${requests[0]!.headers['x-api-key'] ?? ''} ${requests[0]!.headers.authorization ?? ''}`).toMatch(/\btest-key\b/);

    expect(report.brain).toEqual({ mode: 'anthropic', model: MODEL, turns: 3 });
    expect(report.status).toBe('completed');

    // Turn 2's request answers every tool_use of turn 1, in order, malformed calls as errors.
    expect(turn2).toHaveLength(1);
    const results = lastUserBlocks(turn2[0]!);
    expect(results.map((b) => b.type)).toEqual(Array(5).fill('tool_result'));
    expect(results.map((b) => b.tool_use_id)).toEqual(['toolu_e2e_metrics', 'toolu_e2e_logs', 'toolu_e2e_unknown', 'toolu_e2e_runbooks', 'toolu_e2e_notask']);
    expect(results.map((b) => b.is_error === true)).toEqual([false, false, true, false, true]);
    expect(String(results[2]!.content)).toMatch(/unknown agent "database_agent"/);
    expect(String(results[4]!.content)).toMatch(/missing "task"/);
    expect(String(results[0]!.content)).toMatch(/^\[metrics_agent result: untrusted data\]/);

    // Three turn-1 specialists plus the follow-up; the malformed calls ran nothing.
    expect(report.specialists.map((s) => s.workflowId)).toEqual([
      specialistId(handle.workflowId, 'metrics_agent', 1),
      specialistId(handle.workflowId, 'log_agent', 1),
      specialistId(handle.workflowId, 'runbook_agent', 1),
      specialistId(handle.workflowId, 'log_agent', 2),
    ]);
    for (const s of report.specialists) {
      expect(s.status).toBe('completed');
      expect(s.sandbox).toMatchObject({ created: true, deleted: true });
    }
    expect(await stack.local.list()).toEqual([]);

    // The three turn-1 children overlapped in time: each started before every other closed.
    const spans = await Promise.all(
      report.specialists.slice(0, 3).map(async (s) => {
        const d = await stack.client.workflow.getHandle(s.workflowId).describe();
        return { start: d.startTime.getTime(), close: d.closeTime!.getTime() };
      }),
    );
    for (const a of spans) for (const b of spans) if (a !== b) expect(a.start).toBeLessThan(b.close);
    // Their sandboxes were alive at the same time (create started before every other delete
    // ended), and at least two agents were running inside them at once: a sequential loop
    // would give disjoint spans. (The runbook agent is quick, so not every pair of runs overlaps.)
    const lifetimes = await Promise.all(
      report.specialists.slice(0, 3).map(async (s) => {
        const [created] = await activitySpans(stack.client, s.workflowId, 'createSandbox');
        const deleted = await activitySpans(stack.client, s.workflowId, 'deleteSandbox');
        return { start: created!.start, end: deleted[deleted.length - 1]!.end };
      }),
    );
    for (const a of lifetimes) for (const b of lifetimes) if (a !== b) expect(a.start).toBeLessThan(b.end);
    const runs = (await Promise.all(report.specialists.slice(0, 3).map((s) => activitySpans(stack.client, s.workflowId, 'runAgent')))).map(
      (r) => r[0]!,
    );
    const overlapping = runs.flatMap((a, i) => runs.slice(i + 1).filter((b) => a.start < b.end && b.start < a.end));
    expect(overlapping.length).toBeGreaterThanOrEqual(1);

    // The follow-up task's PII was redacted before any sandbox or history saw it, and counted.
    const followUp = report.specialists[3]!;
    expect(followUp.task).toContain('[REDACTED:email]');
    expect(followUp.task).toContain('[REDACTED:card_token]');
    expect(report.redactedTasks).toBeGreaterThanOrEqual(2);
    const history = await investigationHistoryText(stack.client, handle.workflowId);
    // Decoded payloads, or the leak checks below would look at base64.
    expect(history.includes('toolu_e2e_metrics') && history.includes('[REDACTED:email]')).toBe(true);
    expect(history.includes('test-key'), 'the API key is in workflow history').toBe(false);

    // Structured fields from the evidence; the prose from the brain's conclusion.
    expect(report.rootCause).toBe(CONCLUSION.rootCause);
    expect(report.recommendations).toEqual(CONCLUSION.recommendations);
    expect(report.onset).not.toBeNull();
    expect(Math.abs(Date.parse(report.onset!) - Date.parse('2026-03-28T14:30:00Z'))).toBeLessThanOrEqual(2 * 60_000);
    expect(report.suspectedChange).toBe('checkout-service-v2.14.3');
    expect(report.matchedIncidents[0]).toBe('INC-2847');
    expect(report.topErrors[0]!.signature).toContain('NullPointerException in PaymentProcessor.java:142');

    // Nothing raw reaches the brain, the report or history: no canary, no planted PII, no log line.
    const outputs = { report: JSON.stringify(report), markdown: renderMarkdown(report), history };
    const sent = requests.map((r) => r.raw);
    for (const secret of [...canaries, PLANTED.email, PLANTED.token]) {
      for (const [i, body] of sent.entries()) expect(body, `request ${i} carries ${secret}`).not.toContain(secret);
      for (const [where, text] of Object.entries(outputs)) expect(text, `${where} carries ${secret}`).not.toContain(secret);
    }
    expect(rawLines.length).toBeGreaterThanOrEqual(5);
    for (const line of rawLines) {
      const json = JSON.stringify(line).slice(1, -1);
      for (const [i, body] of sent.entries()) expect(body.includes(json), `request ${i} carries raw line ${line.slice(0, 80)}`).toBe(false);
    }
  });

  it('fails the investigation with a message naming ANTHROPIC_API_KEY on 401, after deleting every sandbox', async () => {
    const first = standin.requests.length;
    // The key is revoked mid-investigation: turn 1 dispatches, turn 2 is refused.
    script = (body) =>
      assistantTurns(body) === 0
        ? dispatchReply('Looking at the logs first.', [{ agent: 'log_agent', task: 'Top error signatures of checkout-service in the window.' }])
        : { status: 401, message: 'invalid x-api-key' };
    const handle = await run(`incident-brain-e2e-401-${Date.now()}`);
    const report = Report.parse(await handle.result());
    expect(report.status).toBe('failed');
    expect(report.reasons.join('\n')).toMatch(/brain: ANTHROPIC_API_KEY rejected \(401\): authentication_error: invalid x-api-key/);
    expect(report.brain).toEqual({ mode: 'anthropic', model: MODEL, turns: 1 });
    expect(report.specialists).toHaveLength(1);
    expect(report.specialists[0]!.sandbox).toMatchObject({ created: true, deleted: true });
    expect(await stack.local.list()).toEqual([]);
    // 401 is not retried, neither by the SDK nor by the activity's retry policy.
    expect(standin.requests.length - first).toBe(2);
  });

  it('names the brain that refused even when it refused the first turn (403)', async () => {
    const first = standin.requests.length;
    script = () => ({ status: 403, message: 'model not allowed for this key' });
    const report = Report.parse(await (await run(`incident-brain-e2e-403-${Date.now()}`)).result());
    expect(report.status).toBe('failed');
    expect(report.reasons.join('\n')).toMatch(/ANTHROPIC_API_KEY is not allowed to use model claude-standin \(403\)/);
    expect(report.brain).toMatchObject({ mode: 'anthropic', model: MODEL, turns: 0 });
    expect(report.specialists).toEqual([]);
    expect(await stack.local.list()).toEqual([]);
    expect(standin.requests.length - first).toBe(1);
  });
});
