import { spawnSync } from 'node:child_process';
import { mkdtempSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { buildAgentBundle } from '../src/agents/bundle';
import { AgentResult, type AgentInput } from '../src/schemas/agent';
import { checkoutBursts, generate, writeLogs } from './fixtures/logs-gen';

const BASE = Date.parse('2026-03-15T14:00:00Z');
const outDir = mkdtempSync(join(tmpdir(), 'bulkhead-bundle-'));
let bundle: string;

function run(args: string[], stdin?: string) {
  // A clean environment: the sandbox gives the agent nothing of the host's.
  const r = spawnSync(process.execPath, [bundle, ...args], { input: stdin ?? '', encoding: 'utf8', env: { PATH: process.env.PATH }, timeout: 60_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

function input(agent: AgentInput['agent'], sources: AgentInput['sources']): AgentInput {
  return {
    agent,
    task: 'What is failing, since when, what changed, and have we seen it before? pool exhaustion NullPointerException',
    incident: {
      id: 'runner-test',
      title: 'Checkout failing',
      service: 'checkout-service',
      severity: 'SEV-1',
      report: 'checkout errors since 14:30, user ops@example.com',
      window: { start: '2026-03-15T14:00:00Z', end: '2026-03-15T15:00:00Z' },
      now: '2026-03-15T15:00:00Z',
    },
    sources,
    model: null,
  };
}

beforeAll(async () => {
  bundle = await buildAgentBundle(outDir);
}, 120_000);

describe('agent bundle', () => {
  it('is one self-contained .mjs named by content hash, cached', async () => {
    expect(bundle).toMatch(/agent-[0-9a-f]{16}\.mjs$/);
    expect(statSync(bundle).size).toBeGreaterThan(10_000);
    const t = Date.now();
    expect(await buildAgentBundle(outDir)).toBe(bundle);
    expect(Date.now() - t).toBeLessThan(2000);
  });

  it('--self-check', () => {
    const r = run(['--self-check']);
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout)).toEqual({ ok: true, node: process.version });
  });

  it('rejects invalid input with exit 2 and a JSON error on stderr', () => {
    const bad = run([], JSON.stringify({ agent: 'log_agent' }));
    expect(bad.code).toBe(2);
    expect(bad.stdout).toBe('');
    expect(JSON.parse(bad.stderr.trim().split('\n').pop()!).error).toMatch(/invalid AgentInput/);
    const notJson = run([], 'nope');
    expect(notJson.code).toBe(2);
    expect(run([], JSON.stringify({ ...input('log_agent', {}), agent: 'shell_agent' })).code).toBe(2);
  });

  it('log_agent prints one redacted AgentResult', () => {
    const lines = generate({
      baseMs: BASE,
      minutes: 60,
      bursts: checkoutBursts(30 * 60),
      changes: [{ at: 28 * 60, line: 'deploy started: checkout-service-v2.14.3 service=checkout-service' , labels: { app: 'deployer', level: 'info' } }],
    });
    const r = run([], JSON.stringify(input('log_agent', { logsDir: writeLogs(lines) })));
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout.trim().split('\n')).toHaveLength(1);
    const result = AgentResult.parse(JSON.parse(r.stdout));
    expect(result).toMatchObject({ agent: 'log_agent', summarizedBy: 'evidence', model: null });
    expect(result.evidence.suspectedChange).toBe('checkout-service-v2.14.3');
    expect(result.evidence.topErrors[0]!.signature).toContain('NullPointerException in PaymentProcessor.java:142');
    expect(result.summary).toMatch(/without a model/);
    expect(r.stdout).not.toMatch(/@example\.com|tok_\d|sess_\d|10\.1\.\d/);
    expect(r.stderr).toMatch(/\[agent\] log_agent starting/);
  });

  it('runbook_agent prints matched incidents', () => {
    const r = run([], JSON.stringify(input('runbook_agent', { runbooksDir: join(import.meta.dirname, 'fixtures', 'runbooks') })));
    expect(r.code, r.stderr).toBe(0);
    const result = AgentResult.parse(JSON.parse(r.stdout));
    expect(result.evidence.matchedIncidents[0]).toMatchObject({ id: 'INC-2847', runbook: 'RB-CHECKOUT-004', timeToResolve: '22 minutes' });
    expect(r.stdout).not.toMatch(/jane\.doe|4111 1111/);
  });
});
