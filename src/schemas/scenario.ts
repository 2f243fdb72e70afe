import { z } from 'zod';
import { Incident, Rfc3339 } from './agent';

/** DIR/scenario.yaml (DESIGN.md section 5): the incident's description, with a file-safe id. */
export const ScenarioFile = Incident.extend({
  id: z.string().regex(/^[A-Za-z0-9._-]+$/, 'letters, digits, dot, dash and underscore only'),
})
  .refine((s) => Date.parse(s.window.start) < Date.parse(s.window.end), {
    message: 'window.start must be before window.end',
    path: ['window', 'start'],
  });
export type ScenarioFile = z.infer<typeof ScenarioFile>;

/** One line of DIR/logs/*.jsonl. */
export const LogLine = z.object({
  ts: Rfc3339,
  labels: z.record(z.string(), z.string()),
  line: z.string(),
});
export type LogLine = z.infer<typeof LogLine>;

/** Front matter of DIR/runbooks/*.md. */
export const RunbookFrontMatter = z.object({
  id: z.string().min(1),
  title: z.string().min(1),
  date: z.union([z.string(), z.date()]).transform((d) => (d instanceof Date ? d.toISOString().slice(0, 10) : d)),
  services: z.array(z.string()).default([]),
  tags: z.array(z.string()).default([]),
});
export type RunbookFrontMatter = z.infer<typeof RunbookFrontMatter>;
