import type { AgentName, Incident } from '../schemas/agent';
import { DISPATCH_TOOL_NAME } from './prompt';
import { toTurnResult } from './turn';
import type { BrainTurnInput, BrainTurnResult, ContentBlock } from './types';

/** Said in the transcript so a reader of the history (and the report) knows no model planned this. */
export const OFFLINE_NOTE =
  'Offline planner: no brain model is configured (set ANTHROPIC_API_KEY, or BULKHEAD_BRAIN_URL for an ' +
  'OpenAI-compatible brain). Every specialist runs once with a generic task; the report is written from their evidence.';

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
    {
      agent: 'runbook_agent',
      task:
        `Find past incidents and runbooks for ${service} that match: ${title}. Give the best matches with their ` +
        `root cause, fix, runbook id and time to resolve.`,
    },
  ];
}

/**
 * The planner used when no brain model is configured, with the same result shape as a model turn:
 * first every specialist at once, then done with no conclusion (the report builder writes the
 * root cause from the evidence).
 */
export function offlineTurn(input: BrainTurnInput): BrainTurnResult {
  const planned = input.transcript.some((m) => m.role === 'assistant');
  if (planned) return doneResult();
  const content: ContentBlock[] = [{ type: 'text', text: OFFLINE_NOTE }];
  offlineTasks(input.incident).forEach(({ agent, task }, i) =>
    content.push({ type: 'tool_use', id: `offline_${input.turn}_${i}_${agent}`, name: DISPATCH_TOOL_NAME, input: { agent, task } }),
  );
  return toTurnResult({ mode: 'offline', model: null, content, stopReason: 'tool_use', lastTurn: false });
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
