/**
 * The log and runbook gatherers on every scenario under scenarios/, compared with its
 * expected.yaml (ground truth the product never reads). Tasks are deliberately generic: the
 * agents must find the answer from the data, not from hints in the task.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { gatherLogs } from '../src/agents/logs/index';
import { gatherRunbooks } from '../src/agents/runbooks/index';
import type { AgentInput } from '../src/schemas/agent';
import { ScenarioFile } from '../src/schemas/scenario';

const root = join(import.meta.dirname, '..', 'scenarios');
const scenarios = existsSync(root)
  ? readdirSync(root).filter((d) => existsSync(join(root, d, 'expected.yaml')) && existsSync(join(root, d, 'scenario.yaml')))
  : [];

interface Expected {
  onset: string | null;
  onsetToleranceMinutes?: number;
  suspectedChange: string | null;
  suspectedChangeAliases?: string[];
  matchedIncident: string;
  matchedRunbook?: string;
  topError: string;
  canaries: string[];
  injection?: { markers: string[] };
}

function load(dir: string) {
  const scenario = ScenarioFile.parse(parse(readFileSync(join(root, dir, 'scenario.yaml'), 'utf8')));
  const expected = parse(readFileSync(join(root, dir, 'expected.yaml'), 'utf8')) as Expected;
  const input = (agent: AgentInput['agent'], task: string): AgentInput => ({
    agent,
    task,
    incident: { ...scenario, id: scenario.id },
    sources: { logsDir: join(root, dir, 'logs'), runbooksDir: join(root, dir, 'runbooks') },
    model: null,
  });
  return { scenario, expected, input };
}

function expectNoCanary(text: string, canaries: string[]) {
  for (const c of canaries) expect(text.toLowerCase(), `canary ${c} leaked`).not.toContain(String(c).toLowerCase());
}

describe.skipIf(scenarios.length === 0)('scenarios', () => {
  describe.each(scenarios)('%s', (dir) => {
    const { expected, input } = load(dir);

    it('log_agent finds onset, suspected change and top error without leaking PII', { timeout: 120_000 }, async () => {
      const g = await gatherLogs(
        input('log_agent', 'Find the error signatures, when they started, and any deploy, config or flag change before them.'),
        () => {},
      );
      const ev = g.evidence;
      if (expected.onset === null) expect(ev.onset).toBeNull();
      else {
        const off = Math.abs(Date.parse(ev.onset!) - Date.parse(expected.onset)) / 60_000;
        expect(off, `onset ${ev.onset} vs ${expected.onset}`).toBeLessThanOrEqual(expected.onsetToleranceMinutes ?? 2);
      }
      if (expected.suspectedChange === null) expect(ev.suspectedChange).toBeNull();
      else expect([expected.suspectedChange, ...(expected.suspectedChangeAliases ?? [])]).toContain(ev.suspectedChange);
      expect(ev.topErrors[0]?.signature.toLowerCase()).toContain(expected.topError.toLowerCase());
      const search = g.tools.find((t) => t.name === 'search_logs')!;
      const toolOut = await search.run({ contains: 'canary' });
      expectNoCanary(JSON.stringify(ev) + g.digest + toolOut + g.warnings.join('\n'), expected.canaries);
    });

    it('runbook_agent matches the past incident first, given the symptoms the log agent found', { timeout: 120_000 }, async () => {
      // The brain forwards symptoms from the other specialists; build the task the same way from
      // the log agent's own evidence rather than from hand-written hints.
      const logs = (await gatherLogs(input('log_agent', 'Find the errors.'), () => {})).evidence;
      const symptoms = logs.topErrors
        .slice(0, 3)
        .map((e) => e.signature.replace(/<\w+>/g, ' '))
        .join('; ');
      const task = `Find similar past incidents and how they were fixed. Symptoms: ${symptoms}. Change before onset: ${logs.suspectedChange ?? 'none found'}.`;
      const g = await gatherRunbooks(input('runbook_agent', task), () => {});
      const first = g.evidence.matchedIncidents[0];
      expect(first?.id).toBe(expected.matchedIncident);
      if (expected.matchedRunbook) expect(first?.runbook).toBe(expected.matchedRunbook);
      expectNoCanary(JSON.stringify(g.evidence) + g.digest, expected.canaries);
    });
  });
});
