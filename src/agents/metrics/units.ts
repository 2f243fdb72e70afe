/**
 * Units from metric names, following the Prometheus naming conventions
 * (https://prometheus.io/docs/practices/naming/: the base unit is the last word before the
 * type suffix: `_seconds`, `_bytes`, `_ratio`, `_percent`, `_total` for counters). Names are
 * read as words (split on `_` and `:`), never as substrings: `..._workload_ops` holds the word
 * "workload", not "load", and counts operations.
 */

export interface Unit {
  /** Display unit after `scale`: ms, %, bytes, '' (a count or a plain number). */
  unit: string;
  scale: number;
}

/** Suffixes that say how a series is exposed, not what it measures. */
const TYPE_SUFFIX = new Set(['total', 'bucket', 'sum', 'count', 'created', 'info']);

/** Words that name a count of things: a series ending in one is a number, never a share. */
const COUNT_WORDS = new Set([
  'ops', 'operations', 'op', 'requests', 'reqs', 'calls', 'queries', 'transactions', 'txns', 'connections', 'conns', 'clients',
  'threads', 'goroutines', 'messages', 'msgs', 'items', 'events', 'errors', 'failures', 'retries', 'restarts', 'jobs', 'tasks',
  'sessions', 'workers', 'pods', 'nodes', 'files', 'fds', 'objects', 'keys', 'rows', 'pages', 'packets', 'entries', 'records',
  'shards', 'replicas', 'tuples', 'waits', 'locks', 'deadlocks', 'timeouts', 'ready', 'unacked', 'pending', 'active', 'idle',
]);

/** Words that make a 0..1 gauge a share of something (shown as %). Not "load": load averages are not shares. */
const SHARE_WORDS = new Set(['cpu', 'utilization', 'utilisation', 'util', 'usage', 'saturation', 'ratio', 'fraction', 'busy', 'occupancy']);

export function nameWords(name: string): string[] {
  return name.toLowerCase().split(/[_:]+/).filter(Boolean);
}

/** The words of a name without its exposition suffixes (`_total`, `_bucket`, …). */
function measureWords(name: string): string[] {
  const words = nameWords(name);
  while (words.length > 1 && TYPE_SUFFIX.has(words[words.length - 1])) words.pop();
  return words;
}

/** The unit the name declares (its last word), or '' when it declares none. */
export function unitOf(name: string): Unit {
  const words = measureWords(name);
  const last = words[words.length - 1] ?? '';
  switch (last) {
    case 'seconds':
    case 'second':
      return { unit: 'ms', scale: 1000 };
    case 'milliseconds':
    case 'millis':
    case 'ms':
      return { unit: 'ms', scale: 1 };
    case 'microseconds':
    case 'micros':
    case 'us':
      return { unit: 'ms', scale: 0.001 };
    case 'nanoseconds':
    case 'nanos':
    case 'ns':
      return { unit: 'ms', scale: 1e-6 };
    case 'bytes':
      return { unit: 'bytes', scale: 1 };
    case 'kilobytes':
    case 'kb':
      return { unit: 'bytes', scale: 1024 };
    case 'megabytes':
    case 'mb':
      return { unit: 'bytes', scale: 1024 * 1024 };
    case 'ratio':
    case 'fraction':
      return { unit: '%', scale: 100 };
    case 'percent':
    case 'percentage':
    case 'pct':
      return { unit: '%', scale: 1 };
    default:
      return { unit: '', scale: 1 };
  }
}

/**
 * A gauge with no declared unit whose values all lie in 0..1 is shown as a percentage when its
 * name says it is a share (process_cpu_usage, disk_utilization) and does not end in a count.
 */
export function looksLikeShare(name: string, values: number[]): boolean {
  const words = measureWords(name);
  if (!words.some((w) => SHARE_WORDS.has(w))) return false;
  if (COUNT_WORDS.has(words[words.length - 1] ?? '')) return false;
  if (unitOf(name).unit !== '') return false;
  return values.length > 0 && values.every((v) => v >= 0 && v <= 1);
}
