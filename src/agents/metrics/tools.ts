import type { AgentTool } from '../types';
import type { Discovery } from './discover';
import { hhmm, iso, labelsText, parseDuration, parseTime, round3 } from './format';
import type { InstantSample, PromClient, SeriesPoints } from './prom';

/**
 * PromQL tools offered to the model. Times default to the incident's own clock (the window),
 * so a model that omits them still looks at the incident and not at the wall clock.
 */

export interface Clock {
  windowStart: number;
  windowEnd: number;
}

const MAX_SERIES = 15;
const MAX_POINTS = 40;
const MAX_RANGE_POINTS = 2000;

export function metricsTools(prom: PromClient, discovery: Discovery, clock: Clock): AgentTool[] {
  const query: AgentTool = {
    name: 'promql_query',
    description: `Evaluate an instant PromQL query. time is RFC 3339 or unix seconds; default ${iso(clock.windowEnd)} (end of the incident window). Service series match: ${discovery.how}.`,
    parameters: {
      type: 'object',
      properties: {
        query: { type: 'string', description: 'PromQL expression' },
        time: { type: 'string', description: 'evaluation time, RFC 3339' },
      },
      required: ['query'],
    },
    async run(args) {
      const q = requireQuery(args);
      const time = parseTime(args.time, clock.windowEnd);
      const res = await prom.query(q, time);
      if (res.resultType === 'scalar' || res.resultType === 'string') return `${res.resultType} at ${iso(time)}: ${JSON.stringify(res.result)}`;
      if (res.resultType === 'matrix') return rangeText(res.result as SeriesPoints[], `range selector at ${iso(time)}`);
      const samples = res.result as InstantSample[];
      if (!samples.length) return `no data at ${iso(time)}`;
      const lines = samples.slice(0, MAX_SERIES).map((s) => `${labelsText(s.metric)} ${round3(s.value[1])}`);
      if (samples.length > MAX_SERIES) lines.push(`... ${samples.length - MAX_SERIES} more series`);
      return `at ${iso(time)}:\n${lines.join('\n')}`;
    },
  };

  const range: AgentTool = {
    name: 'promql_range',
    description: `Evaluate a PromQL range query and get per-series min/median/max and sampled points. start/end default to the incident window ${iso(clock.windowStart)}..${iso(clock.windowEnd)}; step like "30s" or "1m" (default 1m).`,
    parameters: {
      type: 'object',
      properties: {
        query: { type: 'string' },
        start: { type: 'string', description: 'RFC 3339' },
        end: { type: 'string', description: 'RFC 3339' },
        step: { type: 'string', description: 'e.g. 30s, 1m' },
      },
      required: ['query'],
    },
    async run(args) {
      const q = requireQuery(args);
      const start = parseTime(args.start, clock.windowStart);
      const end = parseTime(args.end, clock.windowEnd);
      if (end <= start) throw new Error('end must be after start');
      const step = Math.max(parseDuration(args.step, 60), (end - start) / MAX_RANGE_POINTS, 1);
      const series = await prom.queryRange(q, start, end, step);
      return rangeText(series, `${iso(start)}..${iso(end)} step ${round3(step)}s`);
    },
  };

  const list: AgentTool = {
    name: 'list_metrics',
    description: "List the service's metric families found in Prometheus (name, type, label names, series count, the matcher to use).",
    parameters: { type: 'object', properties: {} },
    async run() {
      const lines = discovery.families.map((f) => {
        const labels = Object.keys(f.labels).filter((l) => l !== '__name__');
        return `${f.name} (${f.type}, ${f.series} series) {${f.matcher}} labels: ${labels.join(', ') || '-'}`;
      });
      return `${discovery.families.length} families matched by ${discovery.how}:\n${lines.join('\n')}`;
    },
  };
  return [query, range, list];
}

function requireQuery(args: Record<string, unknown>): string {
  const q = typeof args.query === 'string' ? args.query.trim() : '';
  if (!q) throw new Error('query is required');
  return q;
}

function rangeText(series: SeriesPoints[], what: string): string {
  if (!series.length) return `no data for ${what}`;
  const out = [`${series.length} series, ${what}:`];
  for (const s of series.slice(0, MAX_SERIES)) {
    const vals = s.values.map(([, v]) => v).sort((a, b) => a - b);
    if (!vals.length) continue;
    const stride = Math.max(1, Math.ceil(s.values.length / MAX_POINTS));
    const pts = s.values.filter((_, i) => i % stride === 0).map(([t, v]) => `${hhmm(t)}=${round3(v)}`);
    out.push(`${labelsText(s.metric)} min ${round3(vals[0])} median ${round3(vals[Math.floor(vals.length / 2)])} max ${round3(vals[vals.length - 1])}`);
    out.push(`  ${pts.join(' ')}`);
  }
  if (series.length > MAX_SERIES) out.push(`... ${series.length - MAX_SERIES} more series`);
  return out.join('\n');
}
