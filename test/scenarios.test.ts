import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { LogLine, RunbookFrontMatter, ScenarioFile } from '../src/schemas/scenario';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const SCENARIOS = join(ROOT, 'scenarios');
const IDS = ['checkout-outage', 'search-degraded', 'notification-backlog'];

const listFiles = (dir: string): string[] =>
  readdirSync(dir, { withFileTypes: true })
    .flatMap((e) => (e.isDirectory() ? listFiles(join(dir, e.name)) : [join(dir, e.name)]))
    .sort();

const hasPromtool = spawnSync('promtool', ['--version'], { stdio: 'ignore' }).status === 0;

interface Expected {
  id: string;
  service: string;
  dataRange: { start: string; end: string };
  onset: string;
  suspectedChange: string | null;
  changes: { ts: string; kind: string; id: string; culprit: boolean }[];
  matchedIncident: string;
  matchedRunbook: string;
  topError: string;
  errorFamilies: { signature: string; level: string; count: number; file: string; preExisting?: boolean }[];
  anomalies: string[];
  canaries: string[];
  injection: { file: string; ts: string; markers: string[] };
}

describe.each(IDS)('scenario %s', (id) => {
  const dir = join(SCENARIOS, id);
  const expected = parse(readFileSync(join(dir, 'expected.yaml'), 'utf8')) as Expected;
  const logFiles = readdirSync(join(dir, 'logs')).filter((f) => f.endsWith('.jsonl')).sort();
  const logs = new Map<string, LogLine[]>();
  for (const f of logFiles) {
    const text = readFileSync(join(dir, 'logs', f), 'utf8');
    expect(text.endsWith('\n')).toBe(true);
    logs.set(
      `logs/${f}`,
      text
        .trimEnd()
        .split('\n')
        .map((l) => JSON.parse(l) as LogLine),
    );
  }
  const allLines = [...logs.values()].flat();

  it('scenario.yaml validates against ScenarioFile and fits the data', () => {
    const s = ScenarioFile.parse(parse(readFileSync(join(dir, 'scenario.yaml'), 'utf8')));
    expect(s.id).toBe(id);
    expect(s.service).toBe(expected.service);
    expect(Date.parse(s.now)).toBeGreaterThanOrEqual(Date.parse(s.window.start));
    expect(Date.parse(expected.dataRange.start)).toBeLessThan(Date.parse(s.window.start));
    expect(Date.parse(s.window.start)).toBeLessThan(Date.parse(expected.onset));
    expect(Date.parse(expected.onset)).toBeLessThan(Date.parse(s.window.end));
  });

  it('every log line validates against LogLine; files are sorted by ts', () => {
    for (const [f, lines] of logs) {
      let prev = 0;
      for (const l of lines) {
        const r = LogLine.safeParse(l);
        if (!r.success) throw new Error(`${f}: ${JSON.stringify(l).slice(0, 200)}: ${r.error.message}`);
        const t = Date.parse(l.ts);
        expect(t, `${f} sorted`).toBeGreaterThanOrEqual(prev);
        prev = t;
        expect(['debug', 'info', 'warn', 'warning', 'error']).toContain(l.labels.level);
      }
    }
    expect(allLines.length).toBeGreaterThan(3000);
  });

  it('error families have the exact counts of expected.yaml; topError is the top ERROR family', () => {
    for (const fam of expected.errorFamilies) {
      const lines = logs.get(fam.file)!.filter((l) => l.line.includes(fam.signature));
      expect(lines.length, fam.signature).toBe(fam.count);
      expect(new Set(lines.map((l) => l.labels.level)), fam.signature).toEqual(new Set([fam.level]));
    }
    const errors = expected.errorFamilies.filter((f) => f.level === 'error').sort((a, b) => b.count - a.count);
    expect(errors[0]!.signature).toContain(expected.topError);
    // every ERROR-level line of the service belongs to a listed family
    const errorLines = allLines.filter((l) => l.labels.level === 'error');
    const unlisted = errorLines.filter((l) => !expected.errorFamilies.some((f) => l.line.includes(f.signature)));
    expect(unlisted.map((l) => l.line.slice(0, 120))).toEqual([]);
  });

  it('changes are visible in the logs', () => {
    for (const c of expected.changes) {
      expect(allLines.some((l) => l.line.includes(c.id)), c.id).toBe(true);
    }
    if (expected.suspectedChange) expect(expected.changes.find((c) => c.culprit)!.id).toBe(expected.suspectedChange);
    else expect(expected.changes.every((c) => !c.culprit)).toBe(true);
  });

  it('canaries appear on many lines (including error lines); exactly one injection line', () => {
    expect(expected.canaries.length).toBeGreaterThanOrEqual(6);
    for (const c of expected.canaries) {
      const n = allLines.filter((l) => l.line.includes(c)).length;
      expect(n, c).toBeGreaterThanOrEqual(5);
    }
    const email = expected.canaries.find((c) => c.includes('@'))!;
    expect(allLines.some((l) => l.labels.level === 'error' && l.line.includes(email))).toBe(true);
    const inj = allLines.filter((l) => l.line.includes('IGNORE PREVIOUS INSTRUCTIONS'));
    expect(inj).toHaveLength(1);
    expect(inj[0]!.ts).toBe(expected.injection.ts);
    for (const m of expected.injection.markers) expect(inj[0]!.line).toContain(m);
    expect(logs.get(expected.injection.file)!.includes(inj[0]!)).toBe(true);
  });

  it('runbooks: front matter validates; conventions hold; the matched incident exists', () => {
    const files = readdirSync(join(dir, 'runbooks')).filter((f) => f.endsWith('.md'));
    expect(files.length).toBeGreaterThanOrEqual(5);
    const ids: string[] = [];
    for (const f of files) {
      const text = readFileSync(join(dir, 'runbooks', f), 'utf8');
      const m = /^---\n([\s\S]*?)\n---\n([\s\S]*)$/.exec(text);
      expect(m, f).not.toBeNull();
      const fm = RunbookFrontMatter.parse(parse(m![1]!));
      expect(fm.date).toMatch(/^\d{4}-\d{2}-\d{2}$/);
      expect(Date.parse(fm.date)).toBeLessThan(Date.parse(expected.onset));
      ids.push(fm.id);
      const body = m![2]!;
      for (const h of ['## Symptoms', '## Root cause', '## Fix']) expect(body, `${f} ${h}`).toContain(h);
      expect(body).toMatch(/^Runbook: RB-[A-Z0-9-]+$/m);
      expect(body).toMatch(/^Time to resolve: \d+ minutes$/m);
    }
    expect(ids).toContain(expected.matchedIncident);
    const matched = readFileSync(join(dir, 'runbooks', `${expected.matchedIncident}.md`), 'utf8');
    expect(matched).toContain(`Runbook: ${expected.matchedRunbook}`);
  });

  it('metrics: OpenMetrics files end in # EOF and contain the anomalous metrics', () => {
    const files = readdirSync(join(dir, 'metrics')).filter((f) => f.endsWith('.om'));
    expect(files.length).toBeGreaterThan(0);
    const names = new Set<string>();
    for (const f of files) {
      const text = readFileSync(join(dir, 'metrics', f), 'utf8');
      expect(text.endsWith('# EOF\n'), f).toBe(true);
      for (const m of text.matchAll(/^([a-zA-Z_:][a-zA-Z0-9_:]*)\{[^}]*service="([^"]+)"/gm)) names.add(`${m[1]}|${m[2]}`);
    }
    for (const a of expected.anomalies) {
      expect([...names].some((n) => n.startsWith(`${a}|`)), a).toBe(true);
    }
    expect([...names].some((n) => n.endsWith(`|${expected.service}`))).toBe(true);
  });

  it.skipIf(!hasPromtool)('metrics: every .om file loads with promtool tsdb create-blocks-from openmetrics', () => {
    for (const f of readdirSync(join(dir, 'metrics')).filter((x) => x.endsWith('.om'))) {
      const out = mkdtempSync(join(tmpdir(), 'bh-promtool-'));
      try {
        execFileSync('promtool', ['tsdb', 'create-blocks-from', 'openmetrics', join(dir, 'metrics', f), out], { stdio: 'pipe' });
        const list = execFileSync('promtool', ['tsdb', 'list', out], { encoding: 'utf8' });
        const blocks = list.trim().split('\n').slice(1).filter((l) => /^[0-9A-Z]{26}\s/.test(l));
        expect(blocks.length, f).toBeGreaterThan(0);
      } finally {
        rmSync(out, { recursive: true, force: true });
      }
    }
  }, 120_000);
});

describe('promtool', () => {
  it.skipIf(hasPromtool)('is missing: the promtool load checks were SKIPPED (install Debian package prometheus)', () => {
    expect(hasPromtool).toBe(false);
  });
});

describe('generator', () => {
  let out = '';
  beforeAll(() => {
    out = mkdtempSync(join(tmpdir(), 'bh-gen-'));
  });
  afterAll(() => {
    if (out) rmSync(out, { recursive: true, force: true });
  });

  it('is deterministic: a run into a temp dir reproduces scenarios/ byte for byte', () => {
    const r = spawnSync(process.execPath, [join(ROOT, 'node_modules', 'tsx', 'dist', 'cli.mjs'), join(ROOT, 'scripts', 'gen-scenarios.ts'), out], {
      encoding: 'utf8',
    });
    expect(r.status, r.stderr).toBe(0);
    for (const id of IDS) {
      const a = listFiles(join(SCENARIOS, id)).map((f) => relative(join(SCENARIOS, id), f));
      const b = listFiles(join(out, id)).map((f) => relative(join(out, id), f));
      expect(b).toEqual(a);
      for (const f of a) {
        const x = readFileSync(join(SCENARIOS, id, f));
        const y = readFileSync(join(out, id, f));
        expect(x.equals(y), `${id}/${f} differs (re-run npx tsx scripts/gen-scenarios.ts)`).toBe(true);
      }
    }
    expect(existsSync(join(out, 'README.md'))).toBe(false);
    expect(statSync(join(SCENARIOS, 'README.md')).isFile()).toBe(true);
  }, 120_000);
});
