import { proxyActivities } from '@temporalio/workflow';
import type { createReaperActivities, ReapInput } from '../activities/reaper';
import type { ReapResult } from '../sandbox/reap';

// Deleting is idempotent, so a retried sweep is harmless; the next scheduled run covers the rest.
const { reapSandboxes } = proxyActivities<ReturnType<typeof createReaperActivities>>({
  startToCloseTimeout: '2m',
  retry: { initialInterval: '5s', backoffCoefficient: 2, maximumAttempts: 3 },
});

/** Started by the `bulkhead-reaper` Schedule: deletes sandboxes whose owning workflow is closed or unknown. */
export async function reapOrphans(input: ReapInput = {}): Promise<ReapResult> {
  return reapSandboxes(input);
}
