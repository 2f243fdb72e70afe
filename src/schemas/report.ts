import { z } from 'zod';
import { AgentName, ErrorSignature, TimelineEvent } from './agent';

export const Denial = z.object({ host: z.string(), port: z.number(), binary: z.string().nullable(), reason: z.string() });
export type Denial = z.infer<typeof Denial>;

export const SpecialistEntry = z.object({
  agent: AgentName,
  task: z.string(),
  status: z.enum(['completed', 'failed']),
  summary: z.string(),
  summarizedBy: z.enum(['model', 'evidence', 'none']),
  error: z.string().nullable(),
  sandbox: z.object({ id: z.string(), created: z.boolean(), deleted: z.boolean() }),
  denials: z.array(Denial),
  attempts: z.number().int(),
  workflowId: z.string(),
  durationMs: z.number(),
});
export type SpecialistEntry = z.infer<typeof SpecialistEntry>;

/** report.json (DESIGN.md section 6). */
export const Report = z.object({
  incidentId: z.string(),
  title: z.string(),
  service: z.string(),
  severity: z.string(),
  status: z.enum(['completed', 'partial', 'failed']),
  onset: z.string().nullable(),
  suspectedChange: z.string().nullable(),
  /** The likely culprit service, when the evidence names one (it may not be the reporting service). */
  culprit: z.string().nullable().default(null),
  matchedIncidents: z.array(z.string()),
  topErrors: z.array(ErrorSignature),
  rootCause: z.string(),
  recommendations: z.array(z.string()),
  timeline: z.array(TimelineEvent),
  specialists: z.array(SpecialistEntry),
  brain: z.object({
    mode: z.enum(['anthropic', 'openai', 'offline']),
    model: z.string().nullable(),
    turns: z.number().int(),
  }),
  sandboxDriver: z.object({ kind: z.string(), limitations: z.array(z.string()) }),
  redactedTasks: z.number().int().default(0),
  reasons: z.array(z.string()).default([]),
  /** Things skipped or degraded without failing the run (an unreadable runbook, unparsable log lines). */
  warnings: z.array(z.string()).default([]),
  workflowId: z.string(),
  startedAt: z.string(),
  finishedAt: z.string(),
});
export type Report = z.infer<typeof Report>;
