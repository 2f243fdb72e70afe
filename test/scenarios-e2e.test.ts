import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { parse } from 'yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { renderMarkdown } from '../src/report/markdown';
import { Report } from '../src/schemas/report';
import { omFilesOf } from '../src/stack/prometheus';
import { REPO_ROOT } from '../src/stack/tools';
import { investigationHistoryText } from './support/history-text';
import { startTestStack, type TestStack } from './support/worker';

interface Expected {
  onset: string;
  onsetToleranceMinutes?: number;
  suspectedChange: string | null;
  suspectedChangeAliases?: string[];
  matchedIncident: string;
  topError: string;
  canaries: string[];
  facts?: { reportMustMention?: string[] };
}

const root = path.join(REPO_ROOT, 'scenarios');
const scenarios = readdirSync(root, { withFileTypes: true })
  .filter((d) => d.isDirectory())
  .map((d) => d.name);

/**
 * Every scenario in the repo, through the real workflow: the report's structured fields match
 * the ground truth, and no planted PII canary reaches the report or the workflow history.
 */
describe.each(scenarios)('scenario %s end to end', (name) => {
  const dir = path.join(root, name);
  const expected = parse(readFileSync(path.join(dir, 'expected.yaml'), 'utf8')) as Expected;
  let stack: TestStack;
  let report: Report;
  let history: string;

  beforeAll(async () => {
    stack = await startTestStack({ omFiles: await omFilesOf(dir) });
    const handle = await stack.client.workflow.start('investigateIncident', {
      taskQueue: stack.taskQueue,
      workflowId: `incident-e2e-${name}-${Date.now()}`,
      args: [{ scenarioDir: dir }],
    });
    report = Report.parse(await handle.result());
    // Decoded payloads of the investigation and its children: the raw history is base64.
    history = await investigationHistoryText(stack.client, handle.workflowId);
  });
  afterAll(() => stack?.stop());

  it('completes with every sandbox deleted', async () => {
    expect(report.status).toBe('completed');
    for (const s of report.specialists) expect(s.sandbox.deleted).toBe(true);
    expect(await stack.local.list()).toEqual([]);
  });

  it('finds the onset within the tolerance', () => {
    expect(report.onset).not.toBeNull();
    const off = Math.abs(Date.parse(report.onset!) - Date.parse(expected.onset)) / 60_000;
    expect(off).toBeLessThanOrEqual(expected.onsetToleranceMinutes ?? 2);
  });

  it('names the change that caused it, or none', () => {
    if (expected.suspectedChange === null) expect(report.suspectedChange).toBeNull();
    else expect([expected.suspectedChange, ...(expected.suspectedChangeAliases ?? [])]).toContain(report.suspectedChange);
  });

  it('ranks the right past incident first and the true top error first', () => {
    expect(report.matchedIncidents[0]).toBe(expected.matchedIncident);
    expect(report.topErrors[0]!.signature).toContain(expected.topError);
  });

  it('mentions the facts the on-call needs', () => {
    const md = renderMarkdown(report);
    for (const fact of expected.facts?.reportMustMention ?? []) expect(md).toContain(fact);
  });

  it('leaks no canary into the report or the workflow history', () => {
    const outputs = [JSON.stringify(report), renderMarkdown(report), history];
    for (const canary of expected.canaries) for (const text of outputs) expect(text).not.toContain(canary);
  });
});
