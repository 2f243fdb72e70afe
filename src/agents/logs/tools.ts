import { redactText } from '../redact';
import type { AgentTool } from '../types';
import { detectLevel, parseJsonLine, SEVERITY, type Level } from './levels';
import type { TimeRange } from './record';
import { iso } from './record';
import type { SignatureStats } from './signatures';
import type { LogSource } from './source';

const MAX_LINES = 40;
const MAX_LINE_CHARS = 300;

/**
 * Query tools offered to the model. Plain substring search only (no regex from the model:
 * no ReDoS inside the sandbox); results are redacted here and again by the runner.
 */
export function logTools(sources: LogSource[], window: TimeRange, top: SignatureStats[]): AgentTool[] {
  const searchLogs: AgentTool = {
    name: 'search_logs',
    description:
      'Find log lines containing a text (case-insensitive), optionally at or above a level and within a time range. Returns at most 40 redacted lines, oldest first, with the total match count.',
    parameters: {
      type: 'object',
      properties: {
        contains: { type: 'string', description: 'text the line must contain' },
        min_level: { type: 'string', enum: ['debug', 'info', 'warn', 'error', 'fatal'] },
        from: { type: 'string', description: 'RFC 3339 start (default: window start)' },
        to: { type: 'string', description: 'RFC 3339 end (default: window end)' },
      },
      required: ['contains'],
    },
    async run(args) {
      const needle = String(args.contains ?? '').toLowerCase();
      if (!needle) return 'contains must be a non-empty string';
      const min = SEVERITY[(String(args.min_level ?? 'debug') as Level)] ?? 0;
      const from = typeof args.from === 'string' && !Number.isNaN(Date.parse(args.from)) ? Date.parse(args.from) : window.startMs;
      const to = typeof args.to === 'string' && !Number.isNaN(Date.parse(args.to)) ? Date.parse(args.to) : window.endMs;
      const hits: { ts: number; text: string }[] = [];
      let total = 0;
      for (const src of sources) {
        for await (const rec of src.records({ startMs: from, endMs: to })) {
          if (!rec.line.toLowerCase().includes(needle)) continue;
          if (SEVERITY[detectLevel(rec, parseJsonLine(rec.line))] < min) continue;
          total++;
          if (hits.length < MAX_LINES * 4) hits.push({ ts: rec.ts, text: rec.line.slice(0, MAX_LINE_CHARS) });
        }
      }
      hits.sort((a, b) => a.ts - b.ts);
      const lines = hits.slice(0, MAX_LINES).map((h) => `${iso(h.ts)} ${h.text.replace(/\s+/g, ' ')}`);
      return redactText(`${total} matching lines${total > MAX_LINES ? `, first ${MAX_LINES}` : ''}:\n${lines.join('\n')}`);
    },
  };
  const signatureMinutes: AgentTool = {
    name: 'signature_minutes',
    description: 'Per-minute line counts of one of the top error signatures (1-based rank as listed in the evidence).',
    parameters: { type: 'object', properties: { rank: { type: 'integer', minimum: 1 } }, required: ['rank'] },
    async run(args) {
      const s = top[Number(args.rank) - 1];
      if (!s) return `no signature with rank ${String(args.rank)} (1..${top.length})`;
      const rows = [...s.perMinute.entries()].sort((a, b) => a[0] - b[0]).slice(0, 180);
      return redactText(`${s.signature}\n${rows.map(([m, c]) => `${iso(m * 60_000)} ${c}`).join('\n')}`);
    },
  };
  return [searchLogs, signatureMinutes];
}
