import type { AgentInput } from '../../schemas/agent';
import { candidateSelectors, changeQuery, lokiHasData, lokiQueryRange, selectorLabel, type FetchLike } from './loki';
import { readLogDir, readLogDirBatches, type ReadOptions, type ReadStats } from './read';
import type { LogRecord, TimeRange } from './record';
import { isValidTimeZone } from './timezone';

/** Where the log agent's lines come from; re-iterable so the model's tools can scan again. */
export interface LogSource {
  describe: string;
  /** `quick`: quiet INFO/DEBUG lines may come as counted-only records (see ReadOptions.quick). */
  records(range: TimeRange, quick?: boolean): AsyncIterable<LogRecord>;
  /** The same records in batches (one await per batch): the evidence pass uses it when offered. */
  batches?(range: TimeRange, quick?: boolean): AsyncIterable<LogRecord[]>;
}

export function fileSource(dir: string, stats?: ReadStats, opts: ReadOptions = {}): LogSource {
  return {
    describe: `files ${dir}`,
    records: (range, quick) => readLogDir(dir, range, quick ? stats : undefined, { ...opts, quick }),
    batches: (range, quick) => readLogDirBatches(dir, range, quick ? stats : undefined, { ...opts, quick }),
  };
}

/**
 * Loki: the incident service's streams (first selector that has data) plus change events from
 * any stream, since deploy and flag records usually live in other streams than the app's.
 */
export async function lokiSource(
  baseUrl: string,
  service: string,
  range: TimeRange,
  fetch: FetchLike,
  log: (m: string) => void,
): Promise<LogSource> {
  const opts = { baseUrl, fetch };
  let selector: string | null = null;
  for (const s of candidateSelectors(service)) {
    if (await lokiHasData(opts, s, range)) {
      selector = s;
      break;
    }
  }
  if (!selector) throw new Error(`Loki has no streams for service "${service}" (tried ${candidateSelectors(service).join(', ')})`);
  log(`loki: using selector ${selector}`);
  const label = selectorLabel(selector);
  const changes = changeQuery(label);
  // With the regex fallback selector we cannot tell own streams apart; a few change lines may repeat.
  const ownStream = (rec: LogRecord) => !selector!.includes('=~') && rec.labels[label] === service;
  return {
    describe: `Loki ${selector}`,
    async *records(r: TimeRange) {
      yield* lokiQueryRange(opts, selector!, r);
      try {
        // The service's own streams were read above; skip them rather than remember every line.
        for await (const rec of lokiQueryRange(opts, changes, r)) if (!ownStream(rec)) yield rec;
      } catch (e) {
        log(`loki: change-event query failed: ${(e as Error).message}`);
      }
    },
  };
}

export async function sourcesFor(
  input: AgentInput,
  range: TimeRange,
  fetch: FetchLike,
  log: (m: string) => void,
  stats?: ReadStats,
): Promise<{ sources: LogSource[]; warnings: string[] }> {
  const sources: LogSource[] = [];
  const warnings: string[] = [];
  const opts: ReadOptions = { timeZone: input.sources.logTimezone ?? 'UTC' };
  if (input.sources.logTimezone && !isValidTimeZone(input.sources.logTimezone)) {
    warnings.push(`sources.logTimezone "${input.sources.logTimezone}" is not an IANA zone; zone-less times read as UTC`);
    opts.timeZone = 'UTC';
  }
  // Only the first pass counts lines: the model's search tools scan again without stats.
  const dirs = [...(input.sources.logsDir ? [input.sources.logsDir] : []), ...(input.sources.logDirs ?? [])];
  for (const dir of [...new Set(dirs)]) sources.push(fileSource(dir, stats, opts));
  if (input.sources.lokiUrl) {
    try {
      sources.push(await lokiSource(input.sources.lokiUrl, input.incident.service, range, fetch, log));
    } catch (e) {
      warnings.push(`Loki unavailable: ${(e as Error).message}`);
    }
  }
  if (dirs.length === 0 && !input.sources.lokiUrl) warnings.push('no log source configured (sources.logsDir, sources.logDirs or sources.lokiUrl)');
  return { sources, warnings };
}
