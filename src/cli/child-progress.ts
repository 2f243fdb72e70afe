import type { WorkflowHandle } from '@temporalio/client';
import { type InvestigationProgress, specialistProgressQuery } from '../workflows/progress';

const FINAL = new Set(['done', 'failed', 'cancelled']);

/**
 * The parent hears from a child only when its agent runs and when it ends; the sandbox steps
 * in between are the child's own progress query. Asks each unfinished child, so a watcher sees
 * create/install/policy/delete as they happen without those steps filling the parent's history.
 */
export async function withChildSteps(handle: WorkflowHandle, p: InvestigationProgress): Promise<InvestigationProgress> {
  const specialists = await Promise.all(
    p.specialists.map(async (s) => {
      if (FINAL.has(s.step)) return s;
      const child = await handle.client.getHandle(s.workflowId).query(specialistProgressQuery).catch(() => null);
      return child ? { ...s, ...child } : s;
    }),
  );
  return { ...p, specialists };
}
