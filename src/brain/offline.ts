import { isIdentifier } from '../report/text';
import type { AgentName, Incident } from '../schemas/agent';
import { DISPATCH_TOOL_NAME } from './prompt';
import { EVIDENCE_MARKER } from './results';
import { toTurnResult } from './turn';
import type { BrainTurnInput, BrainTurnResult, ContentBlock } from './types';

/** Said in the transcript so a reader of the history (and the report) knows no model planned this. */
export const OFFLINE_NOTE =
  'Offline planner: no brain model is configured (set ANTHROPIC_API_KEY, or BULKHEAD_BRAIN_URL for an ' +
  'OpenAI-compatible brain). Metrics and logs run first; the runbook search then gets their symptoms; the report is ' +
  'written from the evidence.';

const short = (s: string, n: number) => (s.length <= n ? s : `${s.slice(0, n - 1)}…`);

export function offlineTasks(incident: Incident): { agent: AgentName; task: string }[] {
  const { service, window } = incident;
  const span = `between ${window.start} and ${window.end}`;
  const title = short(incident.title, 300);
  return [
    {
      agent: 'metrics_agent',
      task:
        `Check the golden signals of ${service} ${span}: request rate, error rate, p99 latency, CPU, memory, ` +
        `connection pools and pod restarts. For each anomaly give its onset and before/after values, and name any ` +
        `deploy or version change near the onset. Symptom reported: ${title}.`,
    },
    {
      agent: 'log_agent',
      task:
        `Find the top error signatures in the logs of ${service} ${span}, with counts and first-seen times, and ` +
        `any deploy, config or restart events around the first errors. Symptom reported: ${title}.`,
    },
  ];
}

/**
 * The planner used when no brain model is configured, with the same result shape as a model turn:
 * first every specialist at once, then done with no conclusion (the report builder writes the
 * root cause from the evidence).
 */
export function offlineTurn(input: BrainTurnInput): BrainTurnResult {
  const turns = input.transcript.filter((m) => m.role === 'assistant').length;
  if (turns >= 2) return doneResult();
  const planned = turns === 0 ? offlineTasks(input.incident) : [{ agent: 'runbook_agent' as const, task: runbookTask(input) }];
  const content: ContentBlock[] = [{ type: 'text', text: turns === 0 ? OFFLINE_NOTE : 'Searching past incidents for these symptoms.' }];
  planned.forEach(({ agent, task }, i) =>
    content.push({ type: 'tool_use', id: `offline_${input.turn}_${i}_${agent}`, name: DISPATCH_TOOL_NAME, input: { agent, task } }),
  );
  return toTurnResult({ mode: 'offline', model: null, content, stopReason: 'tool_use', lastTurn: false });
}

interface Findings {
  onset?: string | null;
  suspectedChange?: string | null;
  culprit?: string | null;
  topErrors?: { signature: string; firstSeen?: string }[];
  anomalies?: { name: string }[];
}

/** Errors seen more than a minute before the earliest onset were already there: not symptoms. */
function newSince(errors: { signature: string; firstSeen?: string }[], onset: number): { signature: string }[] {
  return errors.filter((e) => !Number.isFinite(onset) || !e.firstSeen || !(Date.parse(e.firstSeen) < onset - 60_000));
}

/** The evidence the specialists returned last turn, by agent (see results.ts for the framing). */
function lastFindings(input: BrainTurnInput): (Findings & { agent: string })[] {
  const last = input.transcript[input.transcript.length - 1];
  if (!last || last.role !== 'user' || typeof last.content === 'string') return [];
  return last.content.flatMap((b) => {
    if (b.type !== 'tool_result' || b.is_error) return [];
    const at = b.content.indexOf(EVIDENCE_MARKER);
    if (at < 0) return [];
    try {
      const agent = /^\[(\w+) result/.exec(b.content)?.[1] ?? '';
      return [{ ...(JSON.parse(b.content.slice(at + EVIDENCE_MARKER.length)) as Findings), agent }];
    } catch {
      return [];
    }
  });
}

/** Splits text into candidate tokens; quotes, brackets and sentence punctuation never join a token. */
const TOKEN_SPLIT = /[\s,;()[\]{}"'`<>|=!?*]+/;

/**
 * The identifier-like facts of a signature: exception classes, source locations, pool and
 * component names (NullPointerException, PaymentProcessor.java:142, HikariPool-1, ECONNREFUSED).
 * Prose is left out on purpose: a signature is log text, and an instruction planted in a log
 * ("ignore previous instructions...") must not reach another agent's task as a sentence.
 */
export function identifiersOf(text: string): string[] {
  const out: string[] = [];
  for (const raw of text.split(TOKEN_SPLIT)) {
    const t = raw.replace(/^[.:/-]+|[.:/-]+$/g, '');
    if (t.length < 3 || t.length > 80 || !isIdentifier(t) || /^\d+$/.test(t)) continue;
    // Paths, addresses, host and file names (evil.example.com, secret.txt) say where, not what failed.
    if (t.includes('/') || t.includes('@') || /REDACTED/.test(t) || /^[a-z0-9.-]+\.[a-z]{2,6}$/.test(t)) continue;
    const codeLike =
      /[a-z][A-Z]/.test(t) || // CamelCase: NullPointerException, HikariPool
      /^[A-Z]{2,}[a-z]/.test(t) || // SQLException
      /^[A-Z][A-Z0-9_]{3,}$/.test(t) && /[_0-9]|^E[A-Z]{4,}$/.test(t) || // ECONNREFUSED, ERR_TIMEOUT
      /[A-Za-z][._:][A-Za-z0-9]/.test(t) || // java.sql.X, File.java:142, fetch_url
      /[A-Za-z]-?\d|\d-?[A-Za-z]/.test(t); // HikariPool-1, http2, 5xx
    if (codeLike && !out.includes(t)) out.push(t);
  }
  return out;
}

/** A metric's human name ("p99 latency", "[orders-db] node_cpu_utilization" for a neighbour) is a few plain words; anything longer or odder is left out. */
const METRIC_NAME = /^[A-Za-z0-9_.:%/ [\]-]{1,80}$/;
const isMetricName = (s: string) => METRIC_NAME.test(s) && s.trim().split(/\s+/).length <= 4;

/**
 * What an incident commander does before searching history: describe the symptoms found. Built
 * only from sanitised, bounded, identifier-like facts, never from a signature's text verbatim.
 */
export function runbookTask(input: BrainTurnInput): string {
  const f = lastFindings(input);
  const onset = Math.min(...f.map((x) => (x.onset ? Date.parse(x.onset) : NaN)).filter(Number.isFinite));
  const errors = newSince(f.flatMap((x) => x.topErrors ?? []), onset).slice(0, 5);
  const idents = [...new Set(errors.flatMap((e) => identifiersOf(String(e.signature))))].slice(0, 12);
  const culprit = f.map((x) => x.culprit).find((c) => isIdentifier(c) && c !== input.incident.service);
  const moved = f
    .flatMap((x) => x.anomalies ?? [])
    .map((a) => String(a.name))
    .filter(isMetricName)
    .slice(0, 4);
  // The log agent tests whether errors are new since a change; the metrics agent only sees rollouts.
  const judges = f.some((x) => x.agent === 'log_agent') ? f.filter((x) => x.agent === 'log_agent') : f;
  const change = judges.map((x) => x.suspectedChange).find((c) => isIdentifier(c));
  const parts = [`Find past incidents and runbooks for ${input.incident.service} that match these symptoms.`];
  if (idents.length) parts.push(`Error identifiers in the logs: ${idents.join(', ')}.`);
  if (moved.length) parts.push(`Metrics that changed: ${moved.join('; ')}.`);
  if (change) parts.push(`They started after change ${change}.`);
  if (culprit) parts.push(`The likely culprit is ${short(culprit, 120)}, which the service depends on or runs beside; include its past incidents.`);
  parts.push(`Reported: ${short(input.incident.title, 300)}.`);
  parts.push('Give the best matches with their root cause, fix, runbook id and time to resolve.');
  return short(parts.join(' '), 1900);
}

/** conclusion null on purpose: parsing the planner's own sentence as a root cause would be noise. */
function doneResult(): BrainTurnResult {
  return {
    mode: 'offline',
    model: null,
    assistant: {
      role: 'assistant',
      content: [{ type: 'text', text: 'Offline planner: all specialists have answered; the report is built from their evidence.' }],
    },
    dispatches: [],
    invalid: [],
    conclusion: null,
    done: true,
    redactedTasks: 0,
  };
}
