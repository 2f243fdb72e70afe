import { type ActivityOptions, proxyActivities } from '@temporalio/workflow';
import type { createSandboxActivities } from '../activities/sandbox';

type SandboxActivities = ReturnType<typeof createSandboxActivities>;

// Each step has its own budget: creation and install are quick and safely retried (create is
// idempotent on the name), the agent run is long and heartbeats, delete must eventually succeed.
// Every step heartbeats, so a worker killed mid-step is noticed in seconds, not at the timeout.
const QUICK: ActivityOptions = {
  startToCloseTimeout: '90s',
  heartbeatTimeout: '20s',
  retry: { initialInterval: '1s', backoffCoefficient: 2, maximumInterval: '10s', maximumAttempts: 4 },
};
const POLICY: ActivityOptions = { ...QUICK, startToCloseTimeout: '30s' };
// One attempt per activity: the workflow retries the run itself, so it knows the attempt count
// and can replace a sandbox that was lost with its worker.
const RUN: ActivityOptions = { startToCloseTimeout: '6m', heartbeatTimeout: '20s', retry: { maximumAttempts: 1 } };
const DELETE: ActivityOptions = {
  startToCloseTimeout: '45s',
  retry: { initialInterval: '1s', backoffCoefficient: 2, maximumInterval: '15s', maximumAttempts: 12 },
};

// A create refused at the worker's sandbox cap retries every second (nextRetryDelay) until a slot
// frees, bounded by the schedule-to-close budget rather than an attempt count.
const CREATE: ActivityOptions = {
  ...QUICK,
  scheduleToCloseTimeout: '5m',
  retry: { initialInterval: '1s', backoffCoefficient: 2, maximumInterval: '10s' },
};

const OPTIONS = {
  createSandbox: CREATE,
  installAgent: QUICK,
  applyAgentPolicy: POLICY,
  runAgent: RUN,
  deleteSandbox: DELETE,
} satisfies Partial<Record<keyof SandboxActivities, ActivityOptions>>;

/**
 * One sandbox step as an activity whose summary names the agent and the step, so the Temporal
 * UI's event list reads "log_agent: delete sandbox bh-l-…" rather than a bare type name.
 */
export function sandboxStep<K extends keyof typeof OPTIONS>(name: K, summary: string): SandboxActivities[K] {
  return proxyActivities<SandboxActivities>({ ...OPTIONS[name], summary })[name];
}
