/**
 * Issue 10 finding 9 (report side): a run is `partial` with reasons whenever a source could not
 * be read, a specialist returned nothing, or the window was cut; the specialists' warnings (a
 * skipped runbook) reach report.warnings without making the run partial by themselves.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { gatherLogs } from '../src/agents/logs/index';
import { gatherRunbooks } from '../src/agents/runbooks/index';
import { buildReport } from '../src/report/build';
import { AgentResult, type AgentInput, type AgentName, type Incident } from '../src/schemas/agent';
import { REPO_ROOT } from '../src/stack/tools';
import type { SpecialistOutput } from '../src/workflows/types';
import { boundWindow, MAX_WINDOW_HOURS } from '../src/workflows/window';

const incident: Incident = {
  id: 'x',
  title: 'Checkout failing',
  service: 'checkout-service',
  severity: 'SEV-1',
  report: 'checkout fails since 14:30',
  window: { start: '2026-03-28T14:20:00Z', end: '2026-03-28T15:00:00Z' },
  now: '2026-03-28T15:00:00Z',
};
const input = (agent: AgentName, sources: AgentInput['sources']): AgentInput => ({ agent, task: 'pool exhaustion after a deploy', incident, sources, model: null });

/** A specialist output as the workflow records it, around what the real gatherer returned. */
async function output(agent: AgentName, g: { evidence: unknown; warnings: string[] }): Promise<SpecialistOutput> {
  const result = AgentResult.parse({ agent, summary: 's', summarizedBy: 'evidence', model: null, evidence: g.evidence, warnings: g.warnings });
  return { agent, task: 't', workflowId: `w/${agent}`, status: 'completed', result, error: null, sandbox: { id: 'sb', created: true, deleted: true }, denials: [], attempts: 1, durationMs: 1 };
}

const report = (outputs: SpecialistOutput[], reasons: string[] = []) =>
  buildReport({
    workflowId: 'incident-x',
    incident,
    outputs,
    conclusion: null,
    brain: { mode: 'offline', model: null, turns: 1 },
    driver: { kind: 'local', limitations: [] },
    redactedTasks: 0,
    reasons,
    brainFailed: false,
    startedAt: incident.window.end,
    finishedAt: incident.window.end,
  });

describe('partial with reasons', () => {
  const runbooks = path.join(REPO_ROOT, 'test/fixtures/runbooks');

  it('a logs dir the agent cannot read makes the run partial, naming the agent and the source', async () => {
    const logs = await gatherLogs(input('log_agent', { logsDir: '/nonexistent/bh-logs' }), () => undefined);
    const rb = await gatherRunbooks(input('runbook_agent', { runbooksDir: runbooks }), () => undefined);
    const r = report([await output('log_agent', logs), await output('runbook_agent', rb)]);
    expect(r.status).toBe('partial');
    expect(r.reasons.join('\n')).toMatch(/log_agent: reading .*bh-logs.* failed/);
  });

  it('a specialist that returned no evidence makes the run partial', async () => {
    const rb = await gatherRunbooks(input('runbook_agent', { runbooksDir: runbooks }), () => undefined);
    const r = report([await output('runbook_agent', rb), await output('metrics_agent', { evidence: {}, warnings: ['no samples in the incident range'] })]);
    expect(r.status).toBe('partial');
    expect(r.reasons).toContain('metrics_agent returned no evidence (no samples in the incident range)');
  });

  it('a skipped runbook is a warning in the report, and the run stays completed', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'bh-rb-warn-'));
    await writeFile(path.join(dir, 'INC-2847.md'), '---\nid: INC-2847\ntitle: Pool exhaustion after deploy\ntags: [db, 504]\ndate: 2026-03-15\n---\nConnection pool exhausted after deploy.\n');
    await writeFile(path.join(dir, 'bad.md'), Buffer.from([0x00, 0x01, 0x02]));
    const rb = await gatherRunbooks(input('runbook_agent', { runbooksDir: dir }), () => undefined);
    const r = report([await output('runbook_agent', rb)]);
    expect(r.status).toBe('completed');
    expect(r.matchedIncidents).toEqual(['INC-2847']);
    expect(r.warnings).toEqual(['runbook_agent: runbook bad.md skipped: binary, not text']);
    await rm(dir, { recursive: true, force: true });
  });

  it('a 30-day window is cut to the limit and says so', () => {
    const long = { ...incident, window: { start: '2026-02-26T15:00:00Z', end: '2026-03-28T15:00:00Z' } };
    const b = boundWindow(long);
    expect(b.incident.window).toEqual({ start: '2026-03-27T15:00:00.000Z', end: '2026-03-28T15:00:00Z' });
    expect(b.reasons[0]).toMatch(new RegExp(`30 days.*longer than the ${MAX_WINDOW_HOURS} h limit`));
    expect(boundWindow(incident)).toEqual({ incident, reasons: [] });
  });
});
