/**
 * Wall-clock time in an IANA zone to epoch ms, for log stamps written without an offset.
 * Intl is slow per call, so offsets are cached per zone and UTC hour (they change on the hour).
 */
const formatters = new Map<string, Intl.DateTimeFormat>();
const offsets = new Map<string, number>();
const MAX_CACHED = 50_000;

export function isValidTimeZone(tz: string): boolean {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: tz });
    return true;
  } catch {
    return false;
  }
}

/** Minutes east of UTC that `tz` is at the instant `utcMs`. */
function offsetAt(utcMs: number, tz: string): number {
  const hour = Math.floor(utcMs / 3_600_000);
  const key = `${tz}\u0000${hour}`;
  const hit = offsets.get(key);
  if (hit !== undefined) return hit;
  let f = formatters.get(tz);
  if (!f) {
    f = new Intl.DateTimeFormat('en-US', {
      timeZone: tz,
      hourCycle: 'h23',
      year: 'numeric',
      month: 'numeric',
      day: 'numeric',
      hour: 'numeric',
      minute: 'numeric',
      second: 'numeric',
    });
    formatters.set(tz, f);
  }
  const p: Record<string, number> = {};
  for (const part of f.formatToParts(new Date(hour * 3_600_000))) if (part.type !== 'literal') p[part.type] = Number(part.value);
  const wall = Date.UTC(p.year!, p.month! - 1, p.day!, p.hour! % 24, p.minute!, p.second!);
  const off = Math.round((wall - hour * 3_600_000) / 60_000);
  if (offsets.size >= MAX_CACHED) offsets.clear();
  offsets.set(key, off);
  return off;
}

/** Epoch ms of a wall-clock time in `tz` (in a DST gap, the later reading; in an overlap, the first). */
export function zonedToUtc(y: number, mo: number, d: number, h: number, mi: number, s: number, ms: number, tz: string): number {
  const wall = Date.UTC(y, mo - 1, d, h, mi, s, ms);
  if (tz === 'UTC' || tz === 'Etc/UTC' || tz === 'GMT') return wall;
  let t = wall - offsetAt(wall, tz) * 60_000;
  // One correction step settles it: the offset at the guess may differ across a transition.
  const o2 = offsetAt(t, tz);
  t = wall - o2 * 60_000;
  return t;
}
