import type Anthropic from '@anthropic-ai/sdk';
import { isFatal4xx, statusOf } from './api-client';

/** lib/environments/worker.ts: NO_HEARTBEAT_SENTINEL, HEARTBEAT_DEFAULT_MS, HEARTBEAT_TTL_DEFAULT_MS. */
export const NO_HEARTBEAT = 'NO_HEARTBEAT';
const DEFAULT_INTERVAL_MS = 30_000;
const DEFAULT_TTL_MS = 90_000;

export type LeaseEnd = 'stopping' | 'lease_lost' | 'rejected';

export interface LeaseOptions {
  client: Anthropic;
  workId: string;
  environmentId: string;
  /** The echo to start from: NO_HEARTBEAT for a fresh lease, the saved one when resuming. */
  lastHeartbeat: string | null;
  /** Persist each new echo before the next beat (a resumed worker must echo the latest). */
  onBeat: (lastHeartbeat: string) => Promise<void>;
  onEnd: (why: LeaseEnd) => void;
}

/**
 * Keeps a work item's lease the way the SDK's heartbeatLoop does (lib/environments/worker.ts):
 * the first beat echoes NO_HEARTBEAT, later ones the last `last_heartbeat`; the interval is
 * min(ttl/2, 30 s); 412 means the lease is someone else's; state stopping|stopped or
 * lease_extended:false ends the run; a permanent 4xx ends it; no success within the ttl means the
 * lease is assumed lost. Returns stop(), which ends the loop.
 */
export function keepLease(o: LeaseOptions): { stop: () => void; probe: () => Promise<void>; done: Promise<void> } {
  let last = o.lastHeartbeat ?? NO_HEARTBEAT;
  let intervalMs = DEFAULT_INTERVAL_MS;
  let ttlMs = DEFAULT_TTL_MS;
  let lastSuccess = Date.now();
  let stopped = false;
  let wake = () => {};
  const end = (why: LeaseEnd) => {
    if (stopped) return;
    stopped = true;
    o.onEnd(why);
  };
  const beat = async () => {
    try {
      const r = await o.client.beta.environments.work.heartbeat(o.workId, { environment_id: o.environmentId, expected_last_heartbeat: last }, { timeout: intervalMs, maxRetries: 0 });
      lastSuccess = Date.now();
      last = r.last_heartbeat;
      await o.onBeat(last);
      if (r.ttl_seconds > 0) {
        ttlMs = r.ttl_seconds * 1000;
        intervalMs = Math.max(1000, Math.min(ttlMs / 2, DEFAULT_INTERVAL_MS));
      }
      if (r.state === 'stopping' || r.state === 'stopped' || !r.lease_extended) end('stopping');
    } catch (e) {
      if (statusOf(e) === 412) return end('lease_lost');
      if (isFatal4xx(e)) return end('rejected');
      if (Date.now() - lastSuccess > ttlMs) end('lease_lost');
    }
  };
  // One heartbeat in flight at a time: two with the same echo would make the second stale (412).
  let inflight: Promise<void> | null = null;
  const beatOnce = () => (inflight ??= beat().finally(() => (inflight = null)));
  const done = (async () => {
    while (!stopped) {
      await beatOnce();
      if (stopped) break;
      await new Promise<void>((r) => {
        const t = setTimeout(r, intervalMs);
        wake = () => {
          clearTimeout(t);
          r();
        };
      });
    }
  })();
  return {
    stop: () => {
      stopped = true;
      wake();
    },
    /**
     * Beats now (after any beat in flight), so a runner that exited because the item was taken
     * away is told apart from one that finished: the 412 then ends the lease as lease_lost.
     */
    probe: async () => {
      if (inflight) await inflight;
      if (!stopped) await beatOnce();
    },
    done,
  };
}
