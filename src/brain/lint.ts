import { redact } from '../agents/redact';

export interface LintedTask {
  task: string;
  /** How many PII matches were replaced. */
  count: number;
}

/**
 * The brain writes tasks from what it was told, and it was told the reporter's words: a task can
 * carry an email or a session id. Redact before the task reaches a sandbox log or workflow history.
 */
export function lintTask(task: string): LintedTask {
  const r = redact(task);
  let count = 0;
  for (const n of Object.values(r.counts)) count += n ?? 0;
  return { task: r.text, count };
}

/** Redacts every string inside a tool input, so even an invalid call leaves no PII in history. */
export function lintValue(value: unknown): { value: unknown; count: number } {
  let count = 0;
  const walk = (v: unknown): unknown => {
    if (typeof v === 'string') {
      const r = lintTask(v);
      count += r.count;
      return r.task;
    }
    if (Array.isArray(v)) return v.map(walk);
    if (v && typeof v === 'object') {
      const o: Record<string, unknown> = {};
      for (const [k, x] of Object.entries(v)) o[k] = walk(x);
      return o;
    }
    return v;
  };
  const out = walk(value);
  return { value: out, count };
}
