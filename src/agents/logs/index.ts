import { proxiedFetch } from '../http';
import { redactText } from '../redact';
import type { Gather } from '../types';
import { gatherFromSources, readRange } from './gather';
import type { FetchLike } from './loki';
import { sourcesFor } from './source';
import { emptyStats, readWarnings, type ReadStats } from './read';

/** log_agent's evidence: error signatures, onset, change events and the suspected change. */
export const gatherLogs: Gather = async (input, log) => {
  const window = { startMs: Date.parse(input.incident.window.start), endMs: Date.parse(input.incident.window.end) };
  const stats: ReadStats = emptyStats();
  const { sources, warnings } = await sourcesFor(input, readRange(window), proxiedFetch as unknown as FetchLike, log, stats);
  const g = await gatherFromSources(sources, window, log, input.incident.service);
  warnings.push(...readWarnings(stats));
  return { ...g, warnings: [...warnings, ...g.warnings].map(redactText) };
};
