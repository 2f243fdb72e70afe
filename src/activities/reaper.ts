import type { Client } from '@temporalio/client';
import type { SandboxDriver } from '../sandbox/driver';
import { reapOrphans, type ReapResult } from '../sandbox/reap';

export interface ReaperActivityDeps {
  driver: SandboxDriver;
  /** Visibility tells live owners from closed ones; without it only dead sandboxes go. */
  client?: Client;
  /** This worker's stack identity (src/sandbox/labels.ts): only sandboxes labelled with it are reaped. */
  stack?: string;
}

export interface ReapInput {
  /** Sandboxes younger than this are kept unless their process is gone (default 120 s). */
  graceMs?: number;
}

/**
 * The Schedule's work, on whichever worker picks it up: that worker's driver sees its own
 * stack's sandboxes (local: its sandbox root; openshell: the gateway's, by label).
 */
export function createReaperActivities(deps: ReaperActivityDeps) {
  return {
    async reapSandboxes(a: ReapInput = {}): Promise<ReapResult> {
      return reapOrphans(deps.driver, deps.client ?? null, a.graceMs, deps.stack);
    },
  };
}
