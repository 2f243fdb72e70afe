import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LocalDriver } from '../src/sandbox/local';
import { Report } from '../src/schemas/report';
import { REPO_ROOT } from '../src/stack/tools';
import { dispatchReply, endReply, startAnthropicStandin, type AnthropicStandin } from './support/anthropic-standin';
import { canariesOf } from './support/scenario-secrets';

/**
 * `bulkhead investigate` as a user runs it: a child process with no TEMPORAL_ADDRESS, so it
 * brings up its own embedded stack (dev server, Prometheus, worker), with the brain pointed at a
 * local Messages stand-in through ANTHROPIC_BASE_URL.
 */
const scenarioDir = path.join(REPO_ROOT, 'scenarios/checkout-outage');
const CONCLUSION = {
  rootCause: 'CLI-E2E: checkout-service-v2.14.3 leaks DB connections in the payment retry path.',
  recommendations: ['Roll back checkout-service to v2.14.2'],
  timeline: [],
};

/** Async on purpose: the stand-in answers from this process, so a sync spawn would deadlock. */
function run(args: string[], env: NodeJS.ProcessEnv, timeoutMs: number): Promise<{ code: number | null; out: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, args, { cwd: REPO_ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (c: Buffer) => (out += c.toString()));
    child.stderr.on('data', (c: Buffer) => (out += c.toString()));
    const timer = setTimeout(() => child.kill('SIGINT'), timeoutMs);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, out });
    });
  });
}

describe('bulkhead investigate (CLI, embedded stack) with the Anthropic brain', () => {
  let standin: AnthropicStandin;
  let outDir: string;
  let sandboxRoot: string;
  let result: { code: number | null; out: string };

  beforeAll(async () => {
    standin = await startAnthropicStandin((body) =>
      body.messages.some((m) => m.role === 'assistant')
        ? endReply(`Done.\n\`\`\`json\n${JSON.stringify(CONCLUSION)}\n\`\`\``)
        : dispatchReply('All three at once.', [
            { agent: 'metrics_agent', task: 'Golden signals of checkout-service in the window; anomalies and their onset.' },
            { agent: 'log_agent', task: 'Top error signatures of checkout-service with counts and first-seen times.' },
            { agent: 'runbook_agent', task: 'Past incidents of checkout-service with connection pool exhaustion after a deploy.' },
          ]),
    );
    outDir = await mkdtemp(path.join(tmpdir(), 'bh-cli-e2e-out-'));
    sandboxRoot = await mkdtemp(path.join(tmpdir(), 'bh-cli-e2e-sandboxes-'));
    // The user's shell, minus anything that would point the CLI at another stack or brain.
    const env: NodeJS.ProcessEnv = {};
    for (const [k, v] of Object.entries(process.env)) {
      if (!/^(TEMPORAL_|BULKHEAD_|ANTHROPIC_|PROMETHEUS_URL|LOKI_URL)/.test(k)) env[k] = v;
    }
    Object.assign(env, {
      ANTHROPIC_API_KEY: 'test-key',
      ANTHROPIC_BASE_URL: standin.url,
      BULKHEAD_BRAIN_MODEL: 'claude-standin',
      BULKHEAD_SANDBOX_ROOT: sandboxRoot,
    });
    result = await run(['bin/bulkhead.mjs', 'investigate', '--scenario', 'scenarios/checkout-outage', '--out', outDir], env, 170_000);
  }, 180_000);
  afterAll(async () => {
    await standin?.close();
    if (outDir) await rm(outDir, { recursive: true, force: true });
    if (sandboxRoot) await rm(sandboxRoot, { recursive: true, force: true });
  });

  it('exits 0 and writes report.json (brain anthropic) and report.md', async () => {
    expect(result.code, result.out.slice(-2000)).toBe(0);
    const report = Report.parse(JSON.parse(await readFile(path.join(outDir, 'report.json'), 'utf8')));
    expect(report.brain).toEqual({ mode: 'anthropic', model: 'claude-standin', turns: 2 });
    expect(report.status).toBe('completed');
    expect(report.rootCause).toBe(CONCLUSION.rootCause);
    expect(report.matchedIncidents[0]).toBe('INC-2847');
    expect(report.specialists.map((s) => s.agent).sort()).toEqual(['log_agent', 'metrics_agent', 'runbook_agent']);
    expect(existsSync(path.join(outDir, 'report.md'))).toBe(true);
    expect(await readFile(path.join(outDir, 'report.md'), 'utf8')).toContain('checkout-service-v2.14.3');
    expect(standin.requests.length).toBe(2);
  });

  it('deletes every sandbox and leaks no canary to the brain, the report or the terminal', async () => {
    const report = Report.parse(JSON.parse(await readFile(path.join(outDir, 'report.json'), 'utf8')));
    for (const s of report.specialists) expect(s.sandbox).toMatchObject({ created: true, deleted: true });
    // What is really on disk under the root the CLI was given, as the driver itself sees it.
    expect(await new LocalDriver({ root: sandboxRoot }).list()).toEqual([]);
    const texts = [
      ...standin.requests.map((r) => r.raw),
      await readFile(path.join(outDir, 'report.json'), 'utf8'),
      await readFile(path.join(outDir, 'report.md'), 'utf8'),
      result.out,
    ];
    for (const canary of canariesOf(scenarioDir)) for (const t of texts) expect(t.includes(canary), canary).toBe(false);
  });
});
