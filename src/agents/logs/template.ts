import { messageStart } from './header';
import type { LogRecord } from './record';
import { leadingStamp } from './timestamps';

/**
 * What template mining reads of a record: its first line (a folded stack trace is grouped by
 * the line that introduces it), past the timestamp and the header. Lines from JSON records may
 * carry their own text header ("INFO [thread] logger - ..."), so the same stripping applies.
 */
export function miningMessage(rec: LogRecord): string {
  const nl = rec.line.indexOf('\n');
  let first = nl < 0 ? rec.line : rec.line.slice(0, nl);
  if (first.length > 4096) first = first.slice(0, 4096);
  let from = rec.msgStart;
  if (from === undefined) from = leadingStamp(first, { timeZone: 'UTC', referenceMs: rec.ts })?.end ?? 0;
  const start = messageStart(first, from);
  return start >= first.length ? first : first.slice(start);
}
