import { z } from 'zod';

/** The specialists. Adding one means a policy in deploy/policies and a runner in src/agents. */
export const AGENTS = ['metrics_agent', 'log_agent', 'runbook_agent'] as const;
export const AgentName = z.enum(AGENTS);
export type AgentName = z.infer<typeof AgentName>;

export const Rfc3339 = z.string().datetime({ offset: true });

/** What the brain and the report know about the incident: never data, only its description. */
export const Incident = z.object({
  id: z.string().min(1),
  title: z.string().min(1),
  service: z.string().min(1),
  severity: z.string().min(1),
  report: z.string().min(1),
  window: z.object({ start: Rfc3339, end: Rfc3339 }),
  now: Rfc3339,
});
export type Incident = z.infer<typeof Incident>;

/**
 * Where a specialist's data lives. Paths are host paths mounted read-only into the sandbox;
 * URLs are reached through the sandbox proxy. None of these is a secret.
 */
export const Sources = z.object({
  logsDir: z.string().optional(),
  /**
   * Log directories of a live incident (config `sources.logs.dirs`, already narrowed to the
   * incident's service on the host). Each is mounted read-only; JSONL, plain-text and .gz files.
   */
  logDirs: z.array(z.string()).optional(),
  /** IANA zone for zone-less timestamps in plain-text logs (default UTC). */
  logTimezone: z.string().optional(),
  runbooksDir: z.string().optional(),
  prometheusUrl: z.string().url().optional(),
  lokiUrl: z.string().url().optional(),
  /** Loki tenant (X-Scope-OrgID), not a secret. */
  lokiTenant: z.string().optional(),
  /**
   * NAMES of the worker's environment variables holding each source's Authorization header
   * (config `auth_env`). The worker reads the value and hands it to the agent by env only.
   */
  prometheusAuthEnv: z.string().optional(),
  lokiAuthEnv: z.string().optional(),
});
export type Sources = z.infer<typeof Sources>;

/** The longest task a specialist accepts. */
export const AGENT_TASK_MAX_CHARS = 4000;

/** The JSON a specialist reads on stdin inside its sandbox. Secrets (model API key) come by env. */
export const AgentInput = z.object({
  agent: AgentName,
  task: z.string().min(1).max(AGENT_TASK_MAX_CHARS),
  incident: Incident,
  sources: Sources,
  model: z.object({ url: z.string().url(), name: z.string().min(1) }).nullable(),
});
export type AgentInput = z.infer<typeof AgentInput>;

export const ErrorSignature = z.object({
  signature: z.string(),
  count: z.number().int().nonnegative(),
  firstSeen: z.string(),
  lastSeen: z.string().optional(),
});
export const ChangeEvent = z.object({
  ts: z.string(),
  kind: z.string(), // deploy | rollout | config | feature_flag | ...
  id: z.string().nullable(), // e.g. checkout-service-v2.14.3, configmap/coredns rev 812, helm/checkout rev 7
  description: z.string(),
  /** The revision or value the object moved to (v2.14.3, 812, on, 25%), when the event says. */
  revision: z.string().optional(),
  /** Where the change applies, as the event or its stream names it. */
  scope: z.object({ service: z.string().optional(), namespace: z.string().optional() }).optional(),
});
export const Anomaly = z.object({
  name: z.string(), // human name, e.g. "p99 latency"
  promql: z.string(),
  onset: z.string().nullable(),
  before: z.number().nullable(),
  after: z.number().nullable(),
  unit: z.string().optional(),
  score: z.number().optional(),
});
export const PastIncident = z.object({
  id: z.string(),
  title: z.string(),
  date: z.string().optional(),
  score: z.number(),
  rootCause: z.string().optional(),
  fix: z.string().optional(),
  runbook: z.string().optional(),
  timeToResolve: z.string().optional(),
});
export const TimelineEvent = z.object({ ts: z.string(), source: z.string(), event: z.string() });

/** Structured evidence: each agent fills the parts it knows; everything is already redacted. */
export const Evidence = z.object({
  onset: z.string().nullable().default(null),
  suspectedChange: z.string().nullable().default(null),
  /** The service whose anomaly best explains the reported symptom (may not be the reporter). */
  culprit: z.string().nullable().default(null),
  changes: z.array(ChangeEvent).default([]),
  topErrors: z.array(ErrorSignature).default([]),
  anomalies: z.array(Anomaly).default([]),
  matchedIncidents: z.array(PastIncident).default([]),
  timeline: z.array(TimelineEvent).default([]),
});
export type Evidence = z.infer<typeof Evidence>;

/** What the agent runner prints on stdout (one JSON object). */
export const AgentResult = z.object({
  agent: AgentName,
  summary: z.string(),
  summarizedBy: z.enum(['model', 'evidence']),
  model: z.string().nullable(),
  evidence: Evidence,
  warnings: z.array(z.string()).default([]),
});
export type AgentResult = z.infer<typeof AgentResult>;
