import type { Client } from '@temporalio/client';
import { baseOf } from '../workflows/ids';
import type { SandboxDriver, SandboxInfo } from './driver';
import { ownedByStack } from './labels';
import { isPoolId } from './pool';

export interface ReapResult {
  deleted: string[];
  kept: string[];
}

/** Names of sandbox bases that a running workflow still owns, from Temporal visibility. */
async function liveBases(client: Client): Promise<Set<string>> {
  const live = new Set<string>();
  for await (const wf of client.workflow.list({ query: 'ExecutionStatus = "Running" AND BulkheadSandbox IS NOT NULL' })) {
    const v = wf.searchAttributes?.BulkheadSandbox;
    for (const b of Array.isArray(v) ? v : []) live.add(String(b));
  }
  return live;
}

/**
 * Deletes sandboxes of this stack whose owning workflow is closed or unknown. Only a sandbox
 * carrying Bulkhead's labels with this stack's identity is ever considered: a sandbox someone
 * else made on a shared gateway (`alice-dev`), or another stack's (whose owners this stack's
 * visibility cannot see), is left alone whatever the driver lists. Without a Temporal client it
 * can only judge liveness locally, so it deletes just the ones whose process is gone or failed.
 */
export async function reapOrphans(driver: SandboxDriver, client: Client | null, graceMs = 120_000, stack?: string): Promise<ReapResult> {
  const ours = stack ?? (driver as { stack?: unknown }).stack;
  const sandboxes: SandboxInfo[] = await driver.list();
  const out: ReapResult = { deleted: [], kept: [] };
  if (typeof ours !== 'string' || !ours) {
    // No identity, no judgement: nothing here can be proved to be ours.
    out.kept.push(...sandboxes.map((s) => s.id));
    return out;
  }
  const live = client ? await liveBases(client) : null;
  const now = Date.now();
  for (const s of sandboxes) {
    if (!ownedByStack(s.labels, ours)) {
      out.kept.push(s.id);
      continue;
    }
    const base = baseOf(s.id);
    // A sandbox younger than the grace period may belong to a workflow visibility has not indexed
    // yet, or to a `sandbox run` in progress: leave it unless its process is already gone.
    const young = s.createdAt !== null && now - Date.parse(s.createdAt) < graceMs;
    // Warm-pool stock belongs to the worker process that made it, not to a workflow: it is an
    // orphan only once that process, and with it the sandbox's proxy, is gone.
    const orphan = !s.alive || (!isPoolId(s.id) && live !== null && !young && (!base || !live.has(base)));
    if (!orphan) {
      out.kept.push(s.id);
      continue;
    }
    await driver.delete(s.id);
    out.deleted.push(s.id);
  }
  return out;
}
