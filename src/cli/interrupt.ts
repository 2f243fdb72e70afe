/**
 * SIGINT/SIGTERM for a foreground command that owns cleanup (investigate, demo, sandbox run).
 * The first signal asks for an orderly stop (the caller cancels and waits for its deletes); a
 * second one asks to stop now, after the caller's quick last-resort cleanup. Node's default
 * (exit at once, cleanup skipped) never applies while this is installed.
 */
export interface Interrupt {
  /** Signals received so far. */
  readonly count: number;
  readonly signal: NodeJS.Signals | null;
  /** Resolves on the first signal. */
  readonly first: Promise<NodeJS.Signals>;
  /** Resolves on the second signal. */
  readonly second: Promise<NodeJS.Signals>;
  dispose(): void;
}

export function onInterrupt(handlers: { first?: (s: NodeJS.Signals) => void; second?: (s: NodeJS.Signals) => void } = {}): Interrupt {
  let count = 0;
  let signal: NodeJS.Signals | null = null;
  let resolveFirst!: (s: NodeJS.Signals) => void;
  let resolveSecond!: (s: NodeJS.Signals) => void;
  const first = new Promise<NodeJS.Signals>((r) => (resolveFirst = r));
  const second = new Promise<NodeJS.Signals>((r) => (resolveSecond = r));
  const on = (s: NodeJS.Signals) => {
    count++;
    if (count === 1) {
      signal = s;
      resolveFirst(s);
      handlers.first?.(s);
    } else if (count === 2) {
      resolveSecond(s);
      handlers.second?.(s);
    }
  };
  process.on('SIGINT', on);
  process.on('SIGTERM', on);
  return {
    get count() {
      return count;
    },
    get signal() {
      return signal;
    },
    first,
    second,
    dispose() {
      process.off('SIGINT', on);
      process.off('SIGTERM', on);
    },
  };
}

/** Exit status for a run stopped by a signal: 128 + its number, as shells report it. */
export const signalExitCode = (s: NodeJS.Signals | null) => (s === 'SIGTERM' ? 143 : 130);

/** Resolves with the value, or with `fallback` once ms pass. */
export function within<T>(p: Promise<T>, ms: number, fallback: T): Promise<T> {
  let t: NodeJS.Timeout | undefined;
  return Promise.race([p, new Promise<T>((r) => (t = setTimeout(() => r(fallback), ms)))]).finally(() => clearTimeout(t));
}
