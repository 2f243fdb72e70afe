import type { Evidence } from '../../schemas/agent';
import { redactText } from '../redact';
import type { Gathered } from '../types';
import { LogAggregate } from './aggregate';
import { renderDigest } from './digest';
import { burstOnset, newSignatureOnset } from './onset';
import { iso, type TimeRange } from './record';
import { countIn, minuteOf, rankSignatures } from './signatures';
import type { LogSource } from './source';
import { suspectChange } from './suspect';
import { logTools } from './tools';

const TOP = 10;
/** Minutes of logs before an onset that make a clean baseline. */
const CLEAN_BASELINE_MIN = 5;
const LOOKBACK_MS = 60 * 60_000;

/** An hour before the window too: the baseline and a change just before the window matter. */
export const readRange = (w: TimeRange): TimeRange => ({ startMs: w.startMs - LOOKBACK_MS, endMs: w.endMs });

/** One pass over every source, then the deterministic analysis. Exported for tests (no proxy, no env). */
export async function gatherFromSources(
  sources: LogSource[],
  window: TimeRange,
  log: (m: string) => void,
  service?: string,
): Promise<Gathered> {
  const agg = new LogAggregate();
  const range = readRange(window);
  const warnings: string[] = [];
  for (const src of sources) {
    log(`reading ${src.describe}`);
    try {
      if (src.batches) {
        for await (const batch of src.batches(range, true)) for (const rec of batch) agg.add(rec);
      } else for await (const rec of src.records(range, true)) agg.add(rec);
    } catch (e) {
      warnings.push(`reading ${src.describe} failed: ${(e as Error).message}`);
    }
  }
  agg.finish();
  log(`read ${agg.lines} lines, ${agg.table.byKey.size} signatures`);

  const series = agg.problemSeries(window.endMs);
  const onsetIdx = burstOnset(series.counts);
  let onsetMin = onsetIdx === null ? null : series.startMin + onsetIdx;
  let onsetMs = onsetMin === null ? null : (agg.problemFirstTs.get(onsetMin) ?? onsetMin * 60_000);
  let onsetNote =
    onsetMin === null
      ? ''
      : `WARN+ lines ${series.counts[onsetIdx!]}/min vs a trailing baseline of ${baselineMean(series.counts, onsetIdx!)}/min, sustained`;
  if (onsetMin === null) {
    // Sparse, short or quiet logs: a signature never seen before, WARN+ first, then INFO evidence.
    const sparse =
      newSignatureOnset(agg.table.all(), agg.firstTs, window) ?? newSignatureOnset(agg.infoTable.all(), agg.firstTs, window);
    if (sparse) {
      onsetMs = sparse.ms;
      onsetMin = minuteOf(sparse.ms);
      onsetNote =
        `first line of a signature never seen before (${sparse.count} lines: ${redactText(sparse.signature.slice(0, 200)).slice(0, 120)})` +
        (sparse.baselineMinutes < CLEAN_BASELINE_MIN
          ? `; no clean baseline: the logs begin only ${sparse.baselineMinutes} min before it`
          : `, after ${sparse.baselineMinutes} min of logs without it`);
    } else if (agg.lines === 0) onsetNote = 'no log lines in the window';
    else if (series.counts.length < CLEAN_BASELINE_MIN)
      onsetNote = `only ${series.counts.length} min of logs, too short for a baseline, and no new warning or error signature`;
    else onsetNote = 'the window looks healthy: no burst of WARN+ lines and no new warning, error or evidence signature';
  }

  const changes = agg.changes();
  const verdict = suspectChange(changes, onsetMs, agg.table.all(), { service });

  const wStartMin = minuteOf(window.startMs);
  const wEndMin = minuteOf(window.endMs);
  const inWindow = agg.table.all().filter((s) => countIn(s, wStartMin, wEndMin + 1) > 0);
  const ranked = rankSignatures(inWindow, onsetMin, { startMin: Math.max(series.startMin, wStartMin - 60), endMin: wEndMin });
  const top = ranked.slice(0, TOP);
  const topErrors = top.map((s) => ({
    signature: redactText(shown(s.signature)),
    count: countIn(s, wStartMin, wEndMin + 1),
    firstSeen: iso(s.firstSeen),
    lastSeen: iso(s.lastSeen),
    level: s.level,
  }));

  // INFO-level evidence (slow queries, waits, failovers, maintenance): what surged with the onset first.
  const infoRanked = rankSignatures(
    agg.infoTable.all().filter((s) => countIn(s, wStartMin, wEndMin + 1) > 0),
    onsetMin,
    { startMin: Math.max(series.startMin, wStartMin - 60), endMin: wEndMin },
  ).slice(0, 5);
  const infoEvidence = infoRanked.map((s) => ({
    signature: redactText(shown(s.signature)),
    count: countIn(s, wStartMin, wEndMin + 1),
    firstSeen: iso(s.firstSeen),
    lastSeen: iso(s.lastSeen),
    level: s.level,
  }));

  const changeEvents = changes
    .filter((c) => c.ts <= window.endMs)
    .map((c) => ({
      ts: iso(c.ts),
      kind: c.kind,
      id: c.id,
      description: c.description,
      ...(c.revision ? { revision: c.revision } : {}),
      ...(c.scope && (c.scope.service || c.scope.namespace) ? { scope: c.scope } : {}),
    }));
  const suspected = verdict.change ? (verdict.change.id ?? verdict.change.description) : null;
  const onset = onsetMs === null ? null : iso(onsetMs);

  const timeline = [
    ...changeEvents.map((c) => ({ ts: c.ts, source: 'logs', event: `${c.kind}${c.id ? ` ${c.id}` : ''}: ${c.description}` })),
    ...(onset ? [{ ts: onset, source: 'logs', event: `error onset: ${onsetNote}` }] : []),
    ...topErrors.slice(0, 5).map((s) => ({ ts: s.firstSeen, source: 'logs', event: `first ${s.level.toUpperCase()} ${s.signature} (${s.count} in window)` })),
    ...infoEvidence.slice(0, 3).map((s) => ({ ts: s.firstSeen, source: 'logs', event: `first INFO evidence: ${s.signature} (${s.count} in window)` })),
  ].sort((a, b) => Date.parse(a.ts) - Date.parse(b.ts));

  const evidence: Evidence = {
    onset,
    suspectedChange: suspected ? redactText(suspected) : null,
    culprit: null,
    changes: changeEvents,
    topErrors: topErrors.map(({ level: _l, ...e }) => e),
    anomalies: [],
    matchedIncidents: [],
    timeline,
  };
  const digest = renderDigest({
    source: sources.map((s) => s.describe).join(' + ') || 'no source',
    window: { start: iso(window.startMs), end: iso(window.endMs) },
    lines: agg.lines,
    levels: agg.levels,
    onset,
    onsetNote,
    suspected: evidence.suspectedChange,
    suspectReason: verdict.reason,
    changes: changeEvents,
    top: topErrors,
    info: infoEvidence,
  });
  return { evidence, digest: redactText(digest), tools: logTools(sources, window, top), warnings };
}

/** A template as shown: long ones are cut for display only (grouping was by the whole template). */
const shown = (sig: string) => (sig.length > 1000 ? `${sig.slice(0, 999)}…` : sig);

function baselineMean(counts: number[], i: number): string {
  const base = counts.slice(Math.max(0, i - 60), i);
  return (base.reduce((a, b) => a + b, 0) / Math.max(1, base.length)).toFixed(1);
}
