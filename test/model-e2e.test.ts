import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { renderMarkdown } from '../src/report/markdown';
import { Report } from '../src/schemas/report';
import { omFilesOf } from '../src/stack/prometheus';
import { REPO_ROOT } from '../src/stack/tools';
import type { SpecialistOutput } from '../src/workflows/types';
import { investigationHistoryText } from './support/history-text';
import { startOpenAIStandin, type ChatRequestBody, type RecordedRequest, type Standin, type StandinStep } from './support/openai-standin';
import { canariesOf, rawLogLines } from './support/scenario-secrets';
import { startTestStack, type TestStack } from './support/worker';

/**
 * The specialists' model loop end to end: real workflow and worker, real local sandboxes whose
 * only way out is the policy proxy, the agent runner's openai SDK, and a local server speaking
 * the OpenAI chat-completions wire format the way vLLM does. The brain is the offline planner
 * (metrics + logs, then runbooks), so every request the stand-in sees comes from a sandbox.
 */
const scenarioDir = path.join(REPO_ROOT, 'scenarios/checkout-outage');
const MODEL = 'qwen3-standin';
const MODEL_KEY = 'model-key-e2e-5f1c';
type Agent = 'metrics_agent' | 'log_agent' | 'runbook_agent';

const agentOf = (body: ChatRequestBody): Agent => {
  const system = String(body.messages[0]?.content ?? '');
  const m = /You are the (\w+) specialist/.exec(system);
  if (!m) throw new Error(`no agent in system prompt: ${system.slice(0, 80)}`);
  return m[1] as Agent;
};

const FINAL = {
  metrics_agent: 'MODEL-SUMMARY-METRICS: p99 latency of checkout-service rose from 120 ms to 1450 ms at 14:32 UTC.',
  log_agent: 'MODEL-SUMMARY-LOGS: NullPointerException in PaymentProcessor.java:142 from 14:31 UTC after the 14:28 deploy.',
};
const THINK = 'THINK-MARKER the user wants numbers; let me recall the raw lines';

/** Per agent, in order: what the stand-in answers to that agent's n-th request. */
const PLAN: Record<Agent, StandinStep[]> = {
  metrics_agent: [
    { tool_calls: [{ name: 'promql_query', arguments: JSON.stringify({ query: 'hikaricp_connections_active', time: '2026-03-28T14:40:00Z' }) }] },
    { content: `<think>${THINK}</think>${FINAL.metrics_agent}`, reasoning_content: `${THINK} (reasoning field)` },
  ],
  log_agent: [
    // Overloaded once: the SDK must back off and ask again.
    { status: 503, error: 'model is loading' },
    // Lines that carry the planted canaries: the tool result must be redacted before it is sent.
    { tool_calls: [{ name: 'search_logs', arguments: JSON.stringify({ contains: 'canary', from: '2026-03-28T12:00:00Z', to: '2026-03-28T12:30:00Z' }) }] },
    { content: `<think>${THINK}</think>\n${FINAL.log_agent}` },
  ],
  // A 4xx is permanent: no retry, and the summary falls back to the evidence.
  runbook_agent: [{ status: 400, error: 'tools: unsupported parameter' }],
};

describe('specialist model loop end to end (sandbox proxy, openai SDK, chat-completions stand-in)', () => {
  let standin: Standin;
  let stack: TestStack;
  let report: Report;
  let history: string;
  let workflowId: string;
  const byAgent: Record<Agent, RecordedRequest[]> = { metrics_agent: [], log_agent: [], runbook_agent: [] };
  const canaries = canariesOf(scenarioDir);
  /** Set for the last test's second investigation: every agent then gets a plain answer. */
  let control = false;

  beforeAll(async () => {
    const served: Record<Agent, number> = { metrics_agent: 0, log_agent: 0, runbook_agent: 0 };
    // The three agents run concurrently, so the script is chosen by who asks, not by arrival order.
    standin = await startOpenAIStandin([], {
      retryAfterMs: 100,
      fallback: (body) => {
        const agent = agentOf(body);
        if (control) return { content: `CONTROL-SUMMARY from ${agent}` };
        return PLAN[agent][served[agent]++] ?? { status: 500, error: `no more answers for ${agent}` };
      },
    });
    stack = await startTestStack({
      omFiles: await omFilesOf(scenarioDir),
      env: { BULKHEAD_MODEL_URL: standin.url, BULKHEAD_MODEL: MODEL, BULKHEAD_MODEL_API_KEY: MODEL_KEY },
    });
    workflowId = `incident-model-e2e-${Date.now()}`;
    const handle = await stack.client.workflow.start('investigateIncident', {
      taskQueue: stack.taskQueue,
      workflowId,
      args: [{ scenarioDir }],
    });
    report = Report.parse(await handle.result());
    history = await investigationHistoryText(stack.client, workflowId);
    for (const r of standin.requests) byAgent[agentOf(r.body)].push(r);
  });
  afterAll(async () => {
    await stack?.stop();
    await standin?.close();
  });

  const entry = (agent: Agent) => report.specialists.find((s) => s.agent === agent)!;

  it('completes with every sandbox deleted and nothing denied', async () => {
    expect(report.brain.mode).toBe('offline');
    expect(report.specialists.map((s) => s.agent).sort()).toEqual(['log_agent', 'metrics_agent', 'runbook_agent']);
    for (const s of report.specialists) {
      expect(s.status).toBe('completed');
      expect(s.sandbox).toMatchObject({ created: true, deleted: true });
      // The model endpoint is in every agent's policy: the proxy let it through.
      expect(s.denials).toEqual([]);
    }
    expect(await stack.local.list()).toEqual([]);
  });

  it('reached the model only from inside the sandboxes, through the policy proxy, with the key from the worker', () => {
    expect(standin.requests.length).toBe(6);
    for (const r of standin.requests) {
      expect(r.path).toBe('/v1/chat/completions');
      // A plain request inside the proxy's CONNECT tunnel: no proxy credentials leak to the server.
      expect(r.headers['proxy-authorization']).toBeUndefined();
      expect(r.headers.authorization).toBe(`Bearer ${MODEL_KEY}`);
      expect(r.body.model).toBe(MODEL);
      expect(r.body.chat_template_kwargs).toEqual({ enable_thinking: false });
    }
    // The worker's model key goes into the sandbox's environment, never into history.
    expect(history.includes(MODEL_KEY)).toBe(false);
  });

  it('offers each agent its own query tools and answers a tool call with the tool result', () => {
    const tools = (r: RecordedRequest) => (r.body.tools ?? []).map((t) => t.function.name).sort();
    expect(tools(byAgent.metrics_agent[0]!)).toEqual(['list_metrics', 'promql_query', 'promql_range']);
    expect(tools(byAgent.log_agent[0]!)).toEqual(['search_logs', 'signature_minutes']);
    expect(tools(byAgent.runbook_agent[0]!)).toEqual(['read_runbook', 'search_runbooks']);

    // The PromQL ran in the sandbox against Prometheus (through the same proxy) and came back.
    expect(byAgent.metrics_agent).toHaveLength(2);
    const toolMsg = byAgent.metrics_agent[1]!.body.messages.find((m) => m.role === 'tool');
    expect(String(toolMsg?.content)).toMatch(/hikaricp_connections_active|pool|\d/);
    expect(String(toolMsg?.content)).not.toMatch(/^error:/);
    const searched = byAgent.log_agent[2]!.body.messages.find((m) => m.role === 'tool');
    expect(String(searched?.content)).toMatch(/matching lines/);
    expect(String(searched?.content)).toContain('[REDACTED:');
  });

  it('summaries come from the model, without its <think> block or reasoning', () => {
    for (const agent of ['metrics_agent', 'log_agent'] as const) {
      const s = entry(agent);
      expect(s.summarizedBy).toBe('model');
      expect(s.summary).toContain(FINAL[agent]);
      expect(s.summary).not.toMatch(/<\/?think>|THINK-MARKER/);
    }
    expect(JSON.stringify(report)).not.toContain('THINK-MARKER');
    expect(history.includes('THINK-MARKER')).toBe(false);
  });

  it('retries a 503 with backoff: the same request arrives again', () => {
    expect(byAgent.log_agent).toHaveLength(3);
    expect(byAgent.log_agent[1]!.body).toEqual(byAgent.log_agent[0]!.body);
    expect(byAgent.log_agent[1]!.headers['x-stainless-retry-count']).toBe('1');
  });

  it('does not retry a 400: one request, and the summary falls back to the evidence with a warning', async () => {
    expect(byAgent.runbook_agent).toHaveLength(1);
    const s = entry('runbook_agent');
    expect(s.summarizedBy).toBe('evidence');
    expect(s.summary).toMatch(/^\[Written from the evidence without a model: model qwen3-standin failed \(HTTP 400/);
    expect(s.summary).toContain('INC-2847');
    const child = (await stack.client.workflow.getHandle(s.workflowId).result()) as SpecialistOutput;
    expect(child.result?.warnings.join('\n')).toMatch(/model qwen3-standin failed: HTTP 400.*summary written from the evidence/);
  });

  it('sends no canary and no raw log line to the model, the report or history', () => {
    const sent = standin.requests.map((r) => JSON.stringify(r.body));
    const outputs = { report: JSON.stringify(report), markdown: renderMarkdown(report), history };
    for (const canary of canaries) {
      for (const [i, body] of sent.entries()) expect(body.includes(canary), `model request ${i} carries ${canary}`).toBe(false);
      for (const [where, text] of Object.entries(outputs)) expect(text.includes(canary), `${where} carries ${canary}`).toBe(false);
    }
    const raw = rawLogLines(scenarioDir);
    expect(raw.length).toBeGreaterThanOrEqual(5);
    for (const line of raw) {
      const json = JSON.stringify(line).slice(1, -1);
      for (const [i, body] of sent.entries()) expect(body.includes(json), `model request ${i} carries ${line.slice(0, 80)}`).toBe(false);
    }
  });

  it('control: with the model endpoint taken out of its policy, the agent cannot reach the model at all', async () => {
    // Proves the requests above went through the policy: the same agent, the same URL, no rule.
    await writeFile(
      path.join(stack.policyDir, 'runbook_agent.yaml'),
      'version: 1\nagent: runbook_agent\nfilesystem:\n  read_only: [runbooks]\nnetwork:\n  endpoints: []\n',
    );
    control = true;
    const before = standin.requests.length;
    const handle = await stack.client.workflow.start('investigateIncident', {
      taskQueue: stack.taskQueue,
      workflowId: `incident-model-e2e-control-${Date.now()}`,
      args: [{ scenarioDir }],
    });
    const second = Report.parse(await handle.result());
    const asked = standin.requests.slice(before).map((r) => agentOf(r.body));
    expect(asked.sort()).toEqual(['log_agent', 'metrics_agent']);
    const runbooks = second.specialists.find((s) => s.agent === 'runbook_agent')!;
    expect(runbooks.summarizedBy).toBe('evidence');
    expect(runbooks.summary).toMatch(/model qwen3-standin failed/);
    const { port } = new URL(standin.url);
    expect(runbooks.denials.map((d) => `${d.host}:${d.port}`)).toContain(`127.0.0.1:${port}`);
    expect(second.specialists.find((s) => s.agent === 'metrics_agent')!.summary).toContain('CONTROL-SUMMARY from metrics_agent');
    expect(await stack.local.list()).toEqual([]);
  });
});
