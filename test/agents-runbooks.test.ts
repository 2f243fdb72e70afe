import { mkdir, mkdtemp, readdir, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { gatherRunbooks, loadRunbooks, MAX_RUNBOOK_BYTES } from '../src/agents/runbooks/index';
import { parseRunbook, type RunbookDoc } from '../src/agents/runbooks/parse';
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

/**
 * Issue 14 item 1 and issue 10 finding 9: runbooks are written by people. Every shape below is
 * read (or skipped with a warning naming the file); none fails the run.
 */
describe('messy runbooks', () => {
  let messy: string;
  const docs = new Map<string, string | Buffer>([
    ['pool.md', '---\nid: 2847\ntitle: Pool exhausted after deploy\ndate: 2026-03-15\nservices: checkout-service\ntags: [db, 504, true]\n---\n## Root cause\nConnection leak in the retry path exhausted the HikariPool.\n## Fix\nRollback, then close connections in a finally block.\nResolved in 22 minutes.\n'],
    ['windows.md', '\uFEFF---\r\nid: INC-5001\r\ntitle: "Queue backlog on Windows host"\r\ndate: 2025-11-02T10:30:00Z\r\nTags: "rabbitmq, backlog"\r\n---\r\n# Queue backlog\r\nRoot cause: consumer prefetch set to 1.\r\n'],
    ['INC-4100-redis.md', '# INC-4100: Redis failover broke sessions\n\nRoot cause: sentinel quorum lost.\n'],
    ['broken-yaml.md', '---\nid: [unclosed\ntitle: x: y: z\n---\n# Broken header incident\nCause: unknown.\n'],
    ['toml.md', '+++\nid = "INC-4200"\ntitle = "Disk full on es-data-2"\ntags = ["elasticsearch", "disk"]\n+++\nFlood-stage watermark reached.\n'],
    ['list-header.md', '---\n- just\n- a list\n---\n# List header\nbody\n'],
    ['unclosed.md', '---\nid: INC-4300\ntitle: never closed\n# Heading after an unclosed header\n'],
    ['odd-dates.md', '---\nid: INC-4400\ntitle: 42\ndate: 15 March 2026\nservices: [checkout-service, {name: nested}]\n---\nbody\n'],
    ['blank-first.md', '\n\n---\nid: INC-4500\ntitle: Blank lines before the fence\n...\nbody\n'],
    ['empty.md', ''],
    ['utf16.md', Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from('---\nid: INC-4600\ntitle: UTF-16 export\n---\nbody\n', 'utf16le')])],
    ['binary.md', Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x00, 0x00, 0x01])],
    ['huge.md', `---\nid: INC-9999\ntitle: huge\n---\n${'x'.repeat(MAX_RUNBOOK_BYTES)}`],
    ['dup.md', '---\nid: INC-5001\ntitle: Same id as windows.md\n---\nbody\n'],
  ]);

  beforeAll(async () => {
    messy = await mkdtemp(join(tmpdir(), 'bh-messy-runbooks-'));
    for (const [name, text] of docs) await writeFile(join(messy, name), text);
    await mkdir(join(messy, 'a-directory.md'));
    await symlink(join(messy, 'nowhere'), join(messy, 'dangling.md'));
  });
  afterAll(() => rm(messy, { recursive: true, force: true }));

  it('reads every shape, coercing scalars and deriving missing fields', async () => {
    const warnings: string[] = [];
    const got = Object.fromEntries((await loadRunbooks(messy, warnings)).map((d) => [d.file, d]));
    expect(got['pool.md']).toMatchObject({ id: '2847', date: '2026-03-15', services: ['checkout-service'], tags: ['db', '504', 'true'], timeToResolve: '22 minutes' });
    expect(got['pool.md']!.rootCause).toMatch(/Connection leak/);
    expect(got['windows.md']).toMatchObject({ id: 'INC-5001', title: 'Queue backlog on Windows host', date: '2025-11-02T10:30:00Z', tags: ['rabbitmq', 'backlog'], rootCause: 'consumer prefetch set to 1.' });
    expect(got['INC-4100-redis.md']).toMatchObject({ id: 'INC-4100', title: 'INC-4100: Redis failover broke sessions', rootCause: 'sentinel quorum lost.' });
    expect(got['broken-yaml.md']).toMatchObject({ id: 'broken-yaml', title: 'Broken header incident' });
    expect(got['toml.md']).toMatchObject({ id: 'INC-4200', title: 'Disk full on es-data-2', tags: ['elasticsearch', 'disk'] });
    expect(got['list-header.md']).toMatchObject({ id: 'list-header', title: 'List header' });
    expect(got['unclosed.md']).toMatchObject({ id: 'unclosed', title: 'Heading after an unclosed header' });
    expect(got['odd-dates.md']).toMatchObject({ id: 'INC-4400', title: '42', date: '2026-03-15', services: ['checkout-service'] });
    expect(got['blank-first.md']).toMatchObject({ id: 'INC-4500', title: 'Blank lines before the fence' });
    expect(got['empty.md']).toMatchObject({ id: 'empty', title: 'empty' });
    expect(got['utf16.md']).toMatchObject({ id: 'INC-4600', title: 'UTF-16 export' });
    for (const skipped of ['binary.md', 'huge.md', 'a-directory.md', 'dangling.md']) {
      expect(got[skipped]).toBeUndefined();
      expect(warnings.some((w) => w.includes(skipped)), skipped).toBe(true);
    }
    expect(warnings.some((w) => w.includes('broken-yaml.md') && /not valid YAML/.test(w))).toBe(true);
    expect(warnings.some((w) => /share the id INC-5001/.test(w))).toBe(true);
  });

  it('the agent matches a messy past incident and carries the warnings, never failing', async () => {
    const g = await gatherRunbooks({ ...input('connection pool exhausted after a deploy, HikariPool timeouts'), sources: { runbooksDir: messy } }, noop);
    expect(g.evidence.matchedIncidents[0]).toMatchObject({ id: '2847', date: '2026-03-15' });
    expect(g.warnings.filter((w) => /skipped/.test(w)), g.warnings.join('\n')).toHaveLength(4);
  });

  it('the bundled fixture set, rewritten with CRLF and a BOM, parses the same', async () => {
    const crlf = await mkdtemp(join(tmpdir(), 'bh-crlf-runbooks-'));
    for (const n of await readdir(dir)) {
      const t = await readFile(join(dir, n), 'utf8');
      await writeFile(join(crlf, n), `\uFEFF${t.replace(/\r?\n/g, '\r\n')}`);
    }
    const strip = (d: RunbookDoc) => ({ id: d.id, title: d.title, date: d.date, services: d.services, tags: d.tags, kind: d.kind, runbook: d.runbook, ttr: d.timeToResolve });
    const a = (await loadRunbooks(dir)).map(strip);
    const b = (await loadRunbooks(crlf)).map(strip);
    expect(b).toEqual(a);
    expect(b.find((d) => d.id === 'INC-2847')).toMatchObject({ date: '2026-03-15', services: ['checkout-service'] });
    await rm(crlf, { recursive: true, force: true });
  });
});
