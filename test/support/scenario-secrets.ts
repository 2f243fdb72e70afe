import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { parse } from 'yaml';

/** The PII canaries a scenario plants in its logs (expected.yaml), which must never leave a sandbox. */
export function canariesOf(dir: string): string[] {
  const expected = parse(readFileSync(path.join(dir, 'expected.yaml'), 'utf8')) as { canaries?: string[] };
  return expected.canaries ?? [];
}

/**
 * A handful of raw `line` values from the scenario's logs: the first lines that carry a canary,
 * the first ERROR lines of each file, and the planted prompt injection. The brain and the report
 * get signatures, counts and redacted summaries; none of these lines verbatim.
 */
export function rawLogLines(dir: string, perKind = 2): string[] {
  const canaries = canariesOf(dir);
  const out = new Set<string>();
  const logs = path.join(dir, 'logs');
  for (const f of readdirSync(logs).filter((n) => n.endsWith('.jsonl')).sort()) {
    const lines = readFileSync(path.join(logs, f), 'utf8').split('\n').filter(Boolean);
    const records = lines.map((l) => JSON.parse(l) as { labels?: { level?: string }; line: string });
    const pick = (test: (r: (typeof records)[number]) => boolean) =>
      records.filter(test).slice(0, perKind).forEach((r) => out.add(r.line));
    pick((r) => canaries.some((c) => r.line.includes(c)));
    pick((r) => r.labels?.level === 'error');
    pick((r) => /IGNORE PREVIOUS INSTRUCTIONS/.test(r.line));
  }
  return [...out];
}
