/**
 * The canary corpus: every PII class in every shape it travels in must be gone after one
 * redaction pass, and after the sandbox-exit pass over a whole agent result.
 */
import { describe, expect, it } from 'vitest';
import { redactDeep, redactText } from '../src/agents/redact';
import { makeCanaries, shapesOf } from './support/pii-canaries';

const canaries = makeCanaries();
const cases = canaries.flatMap((k) => shapesOf(k).map((line) => [k.kind, line, k] as const));

describe('canary corpus', () => {
  it('covers every class in many shapes', () => {
    expect(new Set(canaries.map((k) => k.kind)).size).toBeGreaterThanOrEqual(12);
    expect(cases.length).toBeGreaterThan(150);
  });

  it.each(cases)('%s: %s', (_kind, line, k) => {
    const out = redactText(line);
    for (const s of k.secrets) expect(out).not.toContain(s);
    expect(out).toContain('[REDACTED:');
    // A second pass changes nothing: what is left is stable.
    expect(redactText(out)).toBe(out);
  });

  it('a line carrying every canary at once loses them all', () => {
    const all = cases.map(([, line]) => line).join(' | ');
    const out = redactText(all);
    for (const k of canaries) for (const s of k.secrets) expect(out).not.toContain(s);
  });

  it('redactDeep removes them from every field of a nested value, keys included', () => {
    const value = { summary: cases.map(([, l]) => l).join('\n'), nested: [{ [canaries[0]!.value]: canaries.filter((k) => k.bare).map((k) => k.value) }] };
    const out = JSON.stringify(redactDeep(value));
    for (const k of canaries) for (const s of k.secrets) expect(out).not.toContain(s);
  });
});
