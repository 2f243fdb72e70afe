/**
 * The timestamp at the start of a plain-text log line, in the common formats, read by a
 * hand-written cursor (no regular expression: every step is O(1) per character read, so a
 * crafted line of any length costs at most the few dozen characters a stamp can span).
 *
 *   2026-03-15T14:30:00.123Z  2026-03-15 14:30:00,123  2026-03-15 14:30:00 +0200  2026/03/15 14:30:00
 *   [2026-03-15 14:30:00]  <34>1 2026-03-15T14:30:00Z (RFC 5424)  Mar 15 14:30:00 (syslog, year from the window)
 *   I0315 14:30:00.123456 (klog)  03-15 14:30:00.123 (Android logcat)  1773585000 / 1773585000123 (epoch s / ms)
 *   14:30:00.123 (date from the window)  081109 203615 (YYMMDD HHMMSS)  17/06/09 20:10:40 (YY/MM/DD)
 *   15/Mar/2026:14:30:00 +0000 (access log)  15-Mar-2026 14:30:00.123  [Sun Mar 15 14:30:00.123 2026] (Apache error)
 *   20260315-14:30:00:123  2026.03.15 14:30:00
 */
import { zonedToUtc } from './timezone';

export interface StampContext {
  /** IANA zone for stamps without an offset. */
  timeZone: string;
  /** Where a stamp without a year or date most plausibly falls (the previous line's time, else the window). */
  referenceMs: number;
}

export interface Stamp {
  ts: number;
  /** Index just past the stamp (and its closing bracket). */
  end: number;
}

const MONTHS: Record<string, number> = { jan: 1, feb: 2, mar: 3, apr: 4, may: 5, jun: 6, jul: 7, aug: 8, sep: 9, oct: 10, nov: 11, dec: 12 };
const DAYS = new Set(['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun']);

const isDigit = (c: number) => c >= 48 && c <= 57;

/** A cursor over one line. Every read either advances or fails; nothing scans back. */
class Cur {
  constructor(
    readonly s: string,
    public i: number,
  ) {}
  digits(n: number): number {
    let v = 0;
    for (let k = 0; k < n; k++) {
      const c = this.s.charCodeAt(this.i + k);
      if (!isDigit(c)) return -1;
      v = v * 10 + c - 48;
    }
    this.i += n;
    return v;
  }
  /** 1 or 2 digits (syslog pads days with a space or not at all). */
  digits12(): number {
    const a = this.digits(1);
    if (a < 0) return -1;
    const c = this.s.charCodeAt(this.i);
    if (isDigit(c)) {
      this.i++;
      return a * 10 + c - 48;
    }
    return a;
  }
  ch(c: string): boolean {
    if (this.s[this.i] === c) {
      this.i++;
      return true;
    }
    return false;
  }
  oneOf(cs: string): boolean {
    const c = this.s[this.i];
    if (c !== undefined && cs.includes(c)) {
      this.i++;
      return true;
    }
    return false;
  }
  spaces(max = 3): number {
    let n = 0;
    while (n < max && this.s[this.i] === ' ') {
      this.i++;
      n++;
    }
    return n;
  }
  word3(): string | null {
    const w = this.s.slice(this.i, this.i + 3).toLowerCase();
    if (w.length < 3) return null;
    this.i += 3;
    return w;
  }
  /** Fraction of a second after . or , (or : in a few Java formats): milliseconds. */
  fraction(seps = '.,'): number {
    const save = this.i;
    if (!this.oneOf(seps)) return 0;
    let ms = 0;
    let n = 0;
    while (isDigit(this.s.charCodeAt(this.i)) && n < 9) {
      if (n < 3) ms = ms * 10 + this.s.charCodeAt(this.i) - 48;
      this.i++;
      n++;
    }
    if (n === 0) {
      this.i = save;
      return 0;
    }
    for (let k = n; k < 3; k++) ms *= 10;
    return ms;
  }
  /** HH:MM[:SS[.frac]] (seconds optional only when allowed). */
  clock(secondsOptional = false): [number, number, number, number] | null {
    const h = this.digits(2);
    if (h < 0 || h > 24 || !this.ch(':')) return null;
    const mi = this.digits(2);
    if (mi < 0 || mi > 59) return null;
    if (!this.ch(':')) return secondsOptional ? [h, mi, 0, 0] : null;
    const s = this.digits(2);
    if (s < 0 || s > 60) return null;
    return [h, mi, s, this.fraction()];
  }
  /** Z, +HH:MM, +HHMM, +HH, or " UTC"/" GMT"; returns minutes east of UTC or null for none. */
  zone(): number | null {
    const c = this.s[this.i];
    if (c === 'Z' || c === 'z') {
      this.i++;
      return 0;
    }
    const save = this.i;
    const hadSpace = this.spaces(1) === 1;
    const d = this.s[this.i];
    if (d === '+' || d === '-') {
      this.i++;
      const h = this.digits(2);
      if (h >= 0 && h <= 14) {
        this.ch(':');
        const m = this.digits(2);
        const mins = h * 60 + (m < 0 ? 0 : m);
        // A space before a sign is only a zone when 4 digits follow ("+0200"), not " - 12 items".
        if (!hadSpace || m >= 0) return d === '-' ? -mins : mins;
      }
    } else if (hadSpace) {
      const w = this.s.slice(this.i, this.i + 3);
      if ((w === 'UTC' || w === 'GMT') && !/\w/.test(this.s[this.i + 3] ?? '')) {
        this.i += 3;
        return 0;
      }
    }
    this.i = save;
    return null;
  }
}

type Parts = { y: number | null; mo: number; d: number; h: number; mi: number; s: number; ms: number; offsetMin: number | null };

/** Calendar parts to epoch ms: the stated offset, else the zone; a missing year or date from the reference. */
function toMs(p: Parts, ctx: StampContext, dateKnown = true): number {
  if (!dateKnown) {
    // Time only: the calendar day (in the zone) nearest the reference.
    const ref = new Date(ctx.referenceMs);
    let best = NaN;
    for (const delta of [0, -1, 1]) {
      const day = new Date(Date.UTC(ref.getUTCFullYear(), ref.getUTCMonth(), ref.getUTCDate() + delta));
      const t = zonedToUtc(day.getUTCFullYear(), day.getUTCMonth() + 1, day.getUTCDate(), p.h, p.mi, p.s, p.ms, ctx.timeZone);
      if (Number.isNaN(best) || Math.abs(t - ctx.referenceMs) < Math.abs(best - ctx.referenceMs)) best = t;
    }
    return best;
  }
  if (p.mo < 1 || p.mo > 12 || p.d < 1 || p.d > 31) return NaN;
  const at = (y: number) =>
    p.offsetMin !== null
      ? Date.UTC(y, p.mo - 1, p.d, p.h, p.mi, p.s, p.ms) - p.offsetMin * 60_000
      : zonedToUtc(y, p.mo, p.d, p.h, p.mi, p.s, p.ms, ctx.timeZone);
  if (p.y !== null) return at(p.y);
  // No year (syslog, logcat): the year that puts it nearest the reference (Dec logs read in January).
  const ry = new Date(ctx.referenceMs).getUTCFullYear();
  let best = at(ry);
  for (const y of [ry - 1, ry + 1]) {
    const t = at(y);
    if (Math.abs(t - ctx.referenceMs) < Math.abs(best - ctx.referenceMs)) best = t;
  }
  return best;
}

function finish(c: Cur, p: Parts, ctx: StampContext, bracket: boolean, dateKnown = true): Stamp | null {
  if (p.offsetMin === null) p.offsetMin = c.zone();
  const ts = toMs(p, ctx, dateKnown);
  if (!Number.isFinite(ts)) return null;
  if (bracket && !c.ch(']')) return null;
  // A stamp is a whole token: "2026-03-15 14:30:00abc" is not one.
  const next = c.s.charCodeAt(c.i);
  if (isDigit(next) || (next >= 65 && next <= 90) || (next >= 97 && next <= 122)) return null;
  return { ts, end: c.i };
}

/** Starting with a 4-digit year: ISO 8601 / RFC 3339 and its relatives. */
function fromYear(c: Cur, ctx: StampContext, bracket: boolean): Stamp | null {
  const y = c.digits(4);
  const sep = c.s[c.i];
  if (sep === '-' || sep === '/' || sep === '.') {
    c.i++;
    const mo = c.digits(2);
    if (mo < 0 || !c.ch(sep)) return null;
    const d = c.digits(2);
    if (d < 0) return null;
    // 2026-03-15T14:30, 2026-03-15 14:30, 2026-03-15-14.30.00.123 (DB2-style), or a date alone.
    if (c.oneOf('T ')) {
      c.spaces(2);
      const clk = c.clock(true);
      if (!clk) return null;
      return finish(c, { y, mo, d, h: clk[0], mi: clk[1], s: clk[2], ms: clk[3], offsetMin: null }, ctx, bracket);
    }
    if (c.ch('-')) {
      const h = c.digits(2);
      if (h < 0 || !c.ch('.')) return null;
      const mi = c.digits(2);
      if (mi < 0 || !c.ch('.')) return null;
      const s = c.digits(2);
      if (s < 0) return null;
      return finish(c, { y, mo, d, h, mi, s, ms: c.fraction('.'), offsetMin: null }, ctx, bracket);
    }
    return null;
  }
  // 20260315-14:30:00:123, 20260315T143000Z, 20260315 14:30:00
  const mo = c.digits(2);
  const d = c.digits(2);
  if (mo < 0 || d < 0) return null;
  if (!c.oneOf('-T ')) return null;
  const save = c.i;
  let clk = c.clock();
  if (!clk) {
    c.i = save;
    const h = c.digits(2);
    const mi = c.digits(2);
    const s = c.digits(2);
    if (h < 0 || mi < 0 || s < 0) return null;
    clk = [h, mi, s, c.fraction()];
  } else if (clk[3] === 0) clk[3] = c.fraction(':');
  return finish(c, { y, mo, d, h: clk[0], mi: clk[1], s: clk[2], ms: clk[3], offsetMin: null }, ctx, bracket);
}

/** Starting with 2 digits: time only, logcat MM-DD, YY/MM/DD, YYMMDD HHMMSS, DD/Mon/YYYY, DD-Mon-YYYY. */
function fromTwoDigits(c: Cur, ctx: StampContext, bracket: boolean): Stamp | null {
  const start = c.i;
  const a = c.digits(2);
  const sep = c.s[c.i];
  if (sep === ':') {
    c.i = start;
    const clk = c.clock();
    if (!clk) return null;
    return finish(c, { y: null, mo: 0, d: 0, h: clk[0], mi: clk[1], s: clk[2], ms: clk[3], offsetMin: null }, ctx, bracket, false);
  }
  if (sep === '-' || sep === '/') {
    c.i++;
    if (isDigit(c.s.charCodeAt(c.i))) {
      const b = c.digits(2);
      if (b < 0) return null;
      if (c.ch(sep)) {
        // YY/MM/DD HH:MM:SS (Spark) or DD/MM/YYYY? A 4-digit tail says day-first.
        if (isDigit(c.s.charCodeAt(c.i + 2)) && isDigit(c.s.charCodeAt(c.i + 3))) {
          const y = c.digits(4);
          if (!c.oneOf(' :T')) return null;
          const clk = c.clock();
          if (!clk) return null;
          return finish(c, { y, mo: b, d: a, h: clk[0], mi: clk[1], s: clk[2], ms: clk[3], offsetMin: null }, ctx, bracket);
        }
        const dd = c.digits(2);
        if (dd < 0 || !c.ch(' ')) return null;
        const clk = c.clock();
        if (!clk) return null;
        return finish(c, { y: 2000 + a, mo: b, d: dd, h: clk[0], mi: clk[1], s: clk[2], ms: clk[3], offsetMin: null }, ctx, bracket);
      }
      // Android logcat: MM-DD HH:MM:SS.mmm
      if (!c.ch(' ')) return null;
      c.spaces(2);
      const clk = c.clock();
      if (!clk) return null;
      return finish(c, { y: null, mo: a, d: b, h: clk[0], mi: clk[1], s: clk[2], ms: clk[3], offsetMin: null }, ctx, bracket);
    }
    // DD/Mon/YYYY:HH:MM:SS +0000 (access logs), DD-Mon-YYYY HH:MM:SS.mmm (Tomcat)
    const mon = MONTHS[c.word3() ?? ''];
    if (!mon || !c.ch(sep)) return null;
    const y = c.digits(4);
    if (y < 0 || !c.oneOf(': ')) return null;
    const clk = c.clock();
    if (!clk) return null;
    return finish(c, { y, mo: mon, d: a, h: clk[0], mi: clk[1], s: clk[2], ms: clk[3], offsetMin: null }, ctx, bracket);
  }
  // YYMMDD HHMMSS (HDFS)
  c.i = start;
  const yy = c.digits(2);
  const mo = c.digits(2);
  const d = c.digits(2);
  if (yy < 0 || mo < 0 || d < 0 || !c.ch(' ')) return null;
  const h = c.digits(2);
  const mi = c.digits(2);
  const s = c.digits(2);
  if (h < 0 || mi < 0 || s < 0 || h > 24 || mi > 59 || s > 60) return null;
  return finish(c, { y: 2000 + yy, mo, d, h, mi, s, ms: 0, offsetMin: null }, ctx, bracket);
}

/** Epoch seconds (10 digits, optional fraction) or milliseconds (13 digits) as a whole token. */
function fromEpoch(c: Cur): Stamp | null {
  let n = 0;
  while (isDigit(c.s.charCodeAt(c.i + n)) && n < 20) n++;
  if (n !== 10 && n !== 13) return null;
  const v = Number(c.s.slice(c.i, c.i + n));
  c.i += n;
  let ms = n === 13 ? v : v * 1000;
  if (n === 10 && c.s[c.i] === '.' && isDigit(c.s.charCodeAt(c.i + 1))) ms += c.fraction('.');
  const next = c.s.charCodeAt(c.i);
  if (isDigit(next) || (next >= 65 && next <= 90) || (next >= 97 && next <= 122) || next === 45 || next === 58) return null;
  // Plausible years only (2001..2096), so a 10-digit id at the line start is not taken for a time.
  if (ms < 978_307_200_000 || ms > 4_000_000_000_000) return null;
  return { ts: ms, end: c.i };
}

/** Month name first (syslog), or a weekday first (Apache error, ctime). */
function fromWord(c: Cur, ctx: StampContext, bracket: boolean): Stamp | null {
  let w = c.word3();
  if (w && DAYS.has(w)) {
    // "Sun Mar 15 14:30:00.123 2026" or "Sunday, ..." is not handled: only the 3-letter ctime form.
    if (!c.ch(' ')) return null;
    w = c.word3();
  }
  const mon = MONTHS[w ?? ''];
  if (!mon) return null;
  // "March" spelled out: skip the rest of the word.
  while (/[a-z]/i.test(c.s[c.i] ?? '') && c.i < 12) c.i++;
  if (c.spaces(2) === 0) return null;
  const d = c.digits12();
  if (d < 0) return null;
  c.ch(',');
  if (c.spaces(2) === 0) return null;
  let y: number | null = null;
  // "Mar 15 2026 14:30:00"
  if (isDigit(c.s.charCodeAt(c.i + 2)) && isDigit(c.s.charCodeAt(c.i + 3))) {
    y = c.digits(4);
    if (!c.ch(' ')) return null;
  }
  const clk = c.clock();
  if (!clk) return null;
  // ctime puts the year after the clock: "Sun Mar 15 14:30:00 2026"
  if (y === null && c.s[c.i] === ' ' && isDigit(c.s.charCodeAt(c.i + 1))) {
    const save = c.i;
    c.i++;
    const yy = c.digits(4);
    if (yy >= 1970 && !isDigit(c.s.charCodeAt(c.i))) y = yy;
    else c.i = save;
  }
  return finish(c, { y, mo: mon, d, h: clk[0], mi: clk[1], s: clk[2], ms: clk[3], offsetMin: null }, ctx, bracket);
}

/** klog / glog: Lmmdd hh:mm:ss.uuuuuu (L one of I W E F). */
function fromKlog(c: Cur, ctx: StampContext): Stamp | null {
  c.i++;
  const mo = c.digits(2);
  const d = c.digits(2);
  if (mo < 0 || d < 0 || !c.ch(' ')) return null;
  const clk = c.clock();
  if (!clk) return null;
  return finish(c, { y: null, mo, d, h: clk[0], mi: clk[1], s: clk[2], ms: clk[3], offsetMin: null }, ctx, false);
}

/** The line's leading timestamp, or null. Looks at most a few dozen characters. */
export function leadingStamp(line: string, ctx: StampContext): Stamp | null {
  let i = 0;
  while (i < 8 && (line[i] === ' ' || line[i] === '\t')) i++;
  // RFC 5424: <PRI>VERSION SP TIMESTAMP; RFC 3164: <PRI>Mmm dd hh:mm:ss
  if (line[i] === '<') {
    let j = i + 1;
    while (j < i + 5 && isDigit(line.charCodeAt(j))) j++;
    if (line[j] !== '>' || j === i + 1) return null;
    i = j + 1;
    if (isDigit(line.charCodeAt(i)) && line[i + 1] === ' ') i += 2;
  }
  let bracket = false;
  if (line[i] === '[') {
    bracket = true;
    i++;
  }
  const c0 = line.charCodeAt(i);
  const c = new Cur(line, i);
  if (isDigit(c0)) {
    const d4 = isDigit(line.charCodeAt(i + 1)) && isDigit(line.charCodeAt(i + 2)) && isDigit(line.charCodeAt(i + 3));
    if (d4 && isDigit(line.charCodeAt(i + 4)) && isDigit(line.charCodeAt(i + 5)) && isDigit(line.charCodeAt(i + 9))) {
      const e = fromEpoch(c);
      if (e) return bracket ? (line[e.end] === ']' ? { ts: e.ts, end: e.end + 1 } : null) : e;
      c.i = i;
    }
    if (d4 && !isDigit(line.charCodeAt(i + 4)) || (d4 && /[-T ]/.test(line[i + 8] ?? '') && isDigit(line.charCodeAt(i + 7)))) {
      const y = fromYear(c, ctx, bracket);
      if (y) return y;
      c.i = i;
    }
    return fromTwoDigits(c, ctx, bracket);
  }
  if ((c0 === 73 || c0 === 87 || c0 === 69 || c0 === 70) && isDigit(line.charCodeAt(i + 1)) && !bracket) return fromKlog(c, ctx);
  if ((c0 >= 65 && c0 <= 90) || (c0 >= 97 && c0 <= 122)) return fromWord(c, ctx, bracket);
  return null;
}

/** Access logs put the stamp after the client: `IP - user [15/Mar/2026:14:30:00 +0000] "GET ..."`. */
export function bracketedStamp(line: string, ctx: StampContext): Stamp | null {
  const open = line.indexOf(' [');
  if (open < 0 || open > 120) return null;
  const s = leadingStamp(line.slice(open + 1, open + 48), ctx);
  return s ? { ts: s.ts, end: open + 1 + s.end } : null;
}
