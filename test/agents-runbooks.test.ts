import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { gatherRunbooks, loadRunbooks } from '../src/agents/runbooks/index';
import { parseRunbook } from '../src/agents/runbooks/parse';
import { rankRunbooks } from '../src/agents/runbooks/rank';
import type { AgentInput } from '../src/schemas/agent';

const dir = join(import.meta.dirname, 'fixtures', 'runbooks');
const noop = () => {};

function input(task: string, over: Partial<AgentInput['incident']> = {}): AgentInput {
  return {
    agent: 'runbook_agent',
    task,
    incident: {
      id: 'x',
      title: 'Checkout errors and latency',
      service: 'checkout-service',
      severity: 'SEV1',
      report: 'Customers cannot pay; checkout is slow and failing since 14:30',
      window: { start: '2026-04-01T14:00:00Z', end: '2026-04-01T15:00:00Z' },
      now: '2026-04-01T15:00:00Z',
      ...over,
    },
    sources: { runbooksDir: dir },
    model: null,
  };
}

describe('runbook parsing', () => {
  it('reads sections, labelled lines and front matter', async () => {
    const docs = await loadRunbooks(dir);
    const by = Object.fromEntries(docs.map((d) => [d.id, d]));
    expect(by['INC-2847']).toMatchObject({
      kind: 'incident',
      date: '2026-03-15',
      runbook: 'RB-CHECKOUT-004',
      timeToResolve: '22 minutes',
      services: ['checkout-service'],
    });
    expect(by['INC-2847']!.rootCause).toMatch(/^Connection leak in the payment retry logic/);
    expect(by['INC-2847']!.fix).toMatch(/connection\.close\(\) in a finally block/);
    expect(by['INC-2511']).toMatchObject({ rootCause: expect.stringMatching(/^Redis cluster/), fix: expect.stringMatching(/^Warmed/), timeToResolve: '45 minutes', runbook: 'RB-SEARCH-001' });
    expect(by['INC-2690']).toMatchObject({ timeToResolve: '1.5 hours', runbook: 'RB-PAY-002', rootCause: expect.stringMatching(/expired/), fix: expect.stringMatching(/^Renewed/) });
    expect(by['INC-3001']!.timeToResolve).toBe('35 minutes');
    expect(by['RB-CHECKOUT-004']!.kind).toBe('runbook');
    expect(by['notes-no-front-matter']).toMatchObject({ title: 'Old note about payments', kind: 'incident' });
  });

  it('survives broken front matter', () => {
    const d = parseRunbook('---\nid: [unclosed\n---\n# Title here\nRoot cause: x', 'a.md');
    expect(d).toMatchObject({ id: 'a', title: 'Title here', rootCause: 'x' });
  });
});

describe('ranking', () => {
  it('puts the matching past incident first for the seed symptoms', async () => {
    const g = await gatherRunbooks(
      input('Find past incidents similar to connection pool exhaustion and HikariPool timeouts after deploy checkout-service-v2.14.3'),
      noop,
    );
    const m = g.evidence.matchedIncidents;
    expect(m[0]!.id).toBe('INC-2847');
    expect(m[0]).toMatchObject({ runbook: 'RB-CHECKOUT-004', timeToResolve: '22 minutes', date: '2026-03-15' });
    expect(m.every((x) => x.id !== 'RB-CHECKOUT-004')).toBe(true);
    expect(m[0]!.score).toBeGreaterThan(m[1]?.score ?? 0);
    expect(g.digest).toContain('Runbook RB-CHECKOUT-004');
    expect(JSON.stringify(g)).not.toMatch(/jane\.doe|4111 1111/);
  });

  it('ranks for incidents it was not written for', async () => {
    const g = await gatherRunbooks(
      input('Postgres says too many clients; did a config change cut connections?', { service: 'ledger', title: 'Ledger writes failing', report: 'ledger API returns 500' }),
      noop,
    );
    expect(g.evidence.matchedIncidents[0]!.id).toBe('INC-3001');
    const tls = await gatherRunbooks(input('TLS handshake failures to the payment gateway, certificate problem?'), noop);
    expect(tls.evidence.matchedIncidents[0]!.id).toBe('INC-2690');
  });

  it('boosts the incident service without filtering on it', async () => {
    const docs = await loadRunbooks(dir);
    const q = { task: 'cache cold latency', title: '', report: '', service: 'checkout-service' };
    expect(rankRunbooks(docs, q)[0]!.doc.id).toBe('INC-2511');
  });

  it('offers search and read tools that redact', async () => {
    const g = await gatherRunbooks(input('pool exhaustion'), noop);
    const read = await g.tools.find((t) => t.name === 'read_runbook')!.run({ id: 'inc-2847' });
    expect(read).toContain('[REDACTED:email]');
    const search = await g.tools.find((t) => t.name === 'search_runbooks')!.run({ query: 'certificate expired' });
    expect(search.split('\n')[0]).toMatch(/^INC-2690/);
  });

  it('warns when no runbooks are configured', async () => {
    const g = await gatherRunbooks({ ...input('x'), sources: {} }, noop);
    expect(g.warnings[0]).toMatch(/runbooksDir/);
    expect(g.evidence.matchedIncidents).toEqual([]);
  });
});
