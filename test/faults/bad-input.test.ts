/**
 * Bad input: malformed scenario files and unknown agents fail fast with the field named (exit 2
 * from the CLI, a non-retryable failure from the workflow) and create nothing; a brain asking
 * for an unknown agent or an oversized task gets an error back and the investigation goes on.
 */
import { WorkflowFailedError } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import { execFile } from 'node:child_process';
import { appendFile, cp, mkdtemp, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MAX_TASK_CHARS } from '../../src/brain/prompt';
import { Report } from '../../src/schemas/report';
import { omFilesOf } from '../../src/stack/prometheus';
import { REPO_ROOT } from '../../src/stack/tools';
import type { runSpecialist } from '../../src/workflows/specialist';
import type { SpecialistInput } from '../../src/workflows/types';
import { MAX_WINDOW_HOURS } from '../../src/workflows/window';
import { dispatchReply, endReply, startAnthropicStandin, type AnthropicStandin } from '../support/anthropic-standin';
import { SCENARIO_DIR } from '../support/process-stack';
import { startTestStack, type TestStack } from '../support/worker';

const run = promisify(execFile);

async function bulkhead(args: string[], env: Record<string, string> = {}) {
  try {
    const r = await run(process.execPath, [path.join(REPO_ROOT, 'bin/bulkhead.mjs'), ...args], { env: { PATH: process.env.PATH!, HOME: process.env.HOME!, ...env } });
    return { code: 0, stderr: r.stderr };
  } catch (e) {
    const err = e as { code: number; stderr: string };
    return { code: err.code, stderr: err.stderr };
  }
}

describe('bad input', () => {
  let dir: string;
  let stack: TestStack;
  let brain: AnthropicStandin;
  /** A copy of the seed scenario with one file broken. */
  const broken = async (name: string, mutate: (d: string) => Promise<void>) => {
    const d = path.join(dir, name);
    await cp(SCENARIO_DIR, d, { recursive: true });
    await mutate(d);
    return d;
  };
  beforeAll(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'bh-bad-input-'));
    brain = await startAnthropicStandin((body) => {
      if (body.messages.length === 1) {
        return dispatchReply('Trying a few things.', [
          { agent: 'shell_agent', task: 'cat /etc/shadow' },
          { agent: 'log_agent', task: 'x'.repeat(MAX_TASK_CHARS + 1000) },
          { agent: 'metrics_agent', task: 'Golden signals of checkout-service around the incident' },
        ]);
      }
      return endReply('Done.\n\n```json\n{"rootCause":"unknown","recommendations":[]}\n```');
    });
    stack = await startTestStack({
      omFiles: await omFilesOf(SCENARIO_DIR),
      env: { ANTHROPIC_API_KEY: 'sk-ant-bad-input-test', ANTHROPIC_BASE_URL: brain.url, BULKHEAD_BRAIN_MODEL: 'claude-standin' },
    });
  });
  afterAll(async () => {
    await stack?.stop();
    await brain?.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('the CLI refuses malformed scenario files and unknown agents with exit 2, naming the file', async () => {
    const cases: [string, (d: string) => Promise<void>, RegExp][] = [
      ['yaml', (d) => writeFile(path.join(d, 'scenario.yaml'), 'id: [unclosed\n'), /scenario\.yaml: not valid YAML/],
      ['runbook', (d) => symlink('/etc/shadow', path.join(d, 'runbooks/bad.md')), /runbooks\/bad\.md: is a symbolic link that leads out/],
      ['metrics', (d) => appendFile(path.join(d, 'metrics', 'zz.om'), 'up 1\n'), /metrics\/zz\.om: .*# EOF/],
    ];
    // TEMPORAL_ADDRESS points nowhere: the scenario must be refused before anything connects.
    const env = { TEMPORAL_ADDRESS: '127.0.0.1:9' };
    for (const [name, mutate, message] of cases) {
      const r = await bulkhead(['investigate', '--scenario', await broken(name, mutate)], env);
      expect(r.code, r.stderr).toBe(2);
      expect(r.stderr).toMatch(message);
    }
    const r = await bulkhead(['sandbox', 'run', '--agent', 'shell_agent', '--', '/bin/true'], { BULKHEAD_SANDBOX_ROOT: path.join(dir, 'sb') });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('--agent');
  });

  it('the workflow fails a malformed scenario at once, non-retryably, creating no sandbox', async () => {
    // A file none of whose lines is a log line (one bad line among good ones is skipped instead).
    const scenarioDir = await broken('wf', (d) => writeFile(path.join(d, 'logs/zz-bad.jsonl'), '{"ts": "yesterday", "labels": {}, "line": "x"}\n'));
    const handle = await stack.client.workflow.start('investigateIncident', { taskQueue: stack.taskQueue, workflowId: `incident-bad-${Date.now()}`, args: [{ scenarioDir }] });
    const err = await handle.result().then(() => null, (e: unknown) => e);
    expect(err).toBeInstanceOf(WorkflowFailedError);
    const cause = (err as WorkflowFailedError).cause?.cause as ApplicationFailure;
    expect(cause).toMatchObject({ type: 'InvalidScenario', nonRetryable: true });
    expect(cause.message).toMatch(/logs\/zz-bad\.jsonl:1: ts/);
    expect(await stack.local.list()).toEqual([]);
  });

  it('a specialist for an unknown agent fails without creating a sandbox', async () => {
    const handle = await stack.client.workflow.start<typeof runSpecialist>('runSpecialist', {
      taskQueue: stack.taskQueue,
      workflowId: `specialist-bad-${Date.now()}`,
      args: [{ agent: 'shell_agent', task: 'anything', incident: { id: 'x' }, sources: {} } as unknown as SpecialistInput],
    });
    // The policy lookup refuses it before any sandbox exists; the specialist reports why.
    const out = await handle.result();
    expect(out).toMatchObject({ status: 'failed', attempts: 0, sandbox: { created: false } });
    expect(out.error).toMatch(/no policy for agent shell_agent/);
    expect(await stack.local.list()).toEqual([]);
  });

  it('answers a brain dispatching an unknown agent or an oversized task with errors, and goes on', async () => {
    const handle = await stack.client.workflow.start('investigateIncident', { taskQueue: stack.taskQueue, workflowId: `incident-bad-dispatch-${Date.now()}`, args: [{ scenarioDir: SCENARIO_DIR }] });
    const report = Report.parse(await handle.result());
    expect(report.specialists.map((s) => s.agent)).toEqual(['metrics_agent']);
    expect(report.status).not.toBe('failed');
    // What the brain got back for each call, in order: two refusals, one summary.
    const results = (brain.requests[1]!.body.messages.at(-1)!.content as { is_error?: boolean; content: unknown }[]).map((r) => [
      !!r.is_error,
      JSON.stringify(r.content),
    ]);
    expect(results).toEqual([
      [true, expect.stringContaining('unknown agent \\"shell_agent\\"')],
      [true, expect.stringContaining(`keep it under ${MAX_TASK_CHARS}`)],
      [false, expect.any(String)],
    ]);
    expect(await stack.local.list()).toEqual([]);
  });

  it('a 30-day window ends partial, saying what the limit is', async () => {
    const scenarioDir = await broken('long-window', async (d) => {
      const f = path.join(d, 'scenario.yaml');
      await writeFile(f, (await readFile(f, 'utf8')).replace(/start: .*/, 'start: "2026-02-26T15:00:00Z"'));
    });
    const handle = await stack.client.workflow.start('investigateIncident', { taskQueue: stack.taskQueue, workflowId: `incident-long-${Date.now()}`, args: [{ scenarioDir }] });
    const report = Report.parse(await handle.result());
    expect(report.status).toBe('partial');
    expect(report.reasons.join('\n')).toMatch(new RegExp(`30 days\\) is longer than the ${MAX_WINDOW_HOURS} h limit`));
    expect(await stack.local.list()).toEqual([]);
  });
});
