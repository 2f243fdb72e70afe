import { detectChange, dedupeChanges, IMAGE_PULL_FAILURE, type Change } from './changes';
import { detectLevel, parseJsonLine, SEVERITY, type Level } from './levels';
import { logfmtMessage, messageOf } from './mask';
import { TemplateMiner } from './miner';
import { INFO_EVIDENCE } from './quick';
import type { LogRecord } from './record';
import { minuteOf, SignatureTable, type SignatureStats } from './signatures';
import { miningMessage } from './template';
import { WILDCARD } from './tokens';

/** Raw change lines kept before de-duplication; a change stream of millions of lines cannot exhaust memory. */
const MAX_RAW_CHANGES = 20_000;

/** A stack trace's identity: the exception class and the first frame's location. */
const TRACE_EXCEPTION = /^(?:Caused by: )?([\w.$]{1,200}(?:Exception|Error|Throwable|Exit|Interrupt))\b/m;
const TRACE_FRAME = /\bat [\w$.<>]{1,300}\(([\w$-]{1,120}\.\w{1,8}:\d{1,7})\)|File "[^"\n]{0,300}?([\w-]{1,120}\.py)", line (\d{1,7})/;

/** Everything the log agent needs from one pass over the lines; memory grows with templates, not lines. */
export class LogAggregate {
  readonly table = new SignatureTable();
  readonly miner = new TemplateMiner();
  readonly levels: Record<Level, number> = { fatal: 0, error: 0, warn: 0, info: 0, debug: 0 };
  /** WARN-and-above lines per minute, and the first such line's time in each minute. */
  readonly problemPerMinute = new Map<number, number>();
  readonly problemFirstTs = new Map<number, number>();
  /** INFO lines that read like evidence (slow queries, failovers...), mined apart from the errors. */
  readonly infoTable = new SignatureTable();
  private rawChanges: Change[] = [];
  droppedChanges = 0;
  firstTs = Infinity;
  lastTs = -Infinity;
  lines = 0;
  private finished = false;

  add(rec: LogRecord): void {
    if (rec.quiet) {
      const n = rec.quietCount ?? 1;
      this.lines += n;
      this.levels[rec.quiet] += n;
      if (rec.ts < this.firstTs) this.firstTs = rec.ts;
      const last = rec.quietLastTs ?? rec.ts;
      if (last > this.lastTs) this.lastTs = last;
      return;
    }
    this.lines++;
    if (rec.ts < this.firstTs) this.firstTs = rec.ts;
    if (rec.ts > this.lastTs) this.lastTs = rec.ts;
    const json = rec.line.charCodeAt(0) === 123 || rec.line.charCodeAt(0) === 32 ? parseJsonLine(rec.line) : null;
    let level = detectLevel(rec, json);
    // Kubernetes reports a failed image pull as a Normal/Warning event: it is an error of the rollout.
    if (SEVERITY[level] < SEVERITY.error && IMAGE_PULL_FAILURE.test(rec.line)) level = 'error';
    this.levels[level]++;
    // logfmt fields (flag=..., version=...) name the change, so only JSON lines are reduced to their message.
    const change = detectChange(rec, level, json, json ? messageOf(rec.line, json) : rec.line);
    if (change) {
      if (this.rawChanges.length < MAX_RAW_CHANGES) this.rawChanges.push(change);
      else this.droppedChanges++;
      return;
    }
    const sev = SEVERITY[level];
    if (sev < SEVERITY.warn) {
      if (sev === SEVERITY.info && INFO_EVIDENCE.test(rec.line.length > 2000 ? rec.line.slice(0, 2000) : rec.line)) {
        this.mine(this.infoTable, rec, json, level);
      }
      return;
    }
    this.mine(this.table, rec, json, level);
    const m = minuteOf(rec.ts);
    this.problemPerMinute.set(m, (this.problemPerMinute.get(m) ?? 0) + 1);
    const first = this.problemFirstTs.get(m);
    if (first === undefined || rec.ts < first) this.problemFirstTs.set(m, rec.ts);
  }

  private mine(table: SignatureTable, rec: LogRecord, json: Record<string, unknown> | null, level: Level): void {
    let msg = json ? firstLine(messageOf(rec.line, json)) : miningMessage(rec);
    // logfmt (level=error msg="..." user=...): the message is msg (+ err); the other fields are request context.
    if (!json && msg.includes('=')) msg = logfmtMessage(msg)?.split('\n')[0] ?? msg;
    const nl = rec.line.indexOf('\n');
    if (nl > 0) msg += traceIdentity(msg, rec.line.slice(nl + 1));
    const t = this.miner.add(msg);
    table.add(`t${t.id}`, level, rec.ts, `t${t.id}`);
  }

  /** Merges one-position template variants and names every signature by its final template. */
  finish(): void {
    if (this.finished) return;
    this.finished = true;
    this.miner.finalize();
    for (const table of [this.table, this.infoTable]) {
      const merged = new Map<string, SignatureStats>();
      for (const s of table.all()) {
        const id = Number(s.signature.slice(1));
        const canon = Number.isNaN(id) ? s.signature : `t${this.miner.canonical(id)}`;
        const into = merged.get(canon);
        if (!into) {
          const tpl = Number.isNaN(id) || id < 0 ? null : this.miner.templates[this.miner.canonical(id)];
          merged.set(canon, { ...s, signature: tpl ? displayTemplate(tpl.tokens) : id < 0 ? '<other templates>' : s.signature });
          continue;
        }
        into.count += s.count;
        if (SEVERITY[s.level] > SEVERITY[into.level]) into.level = s.level;
        into.firstSeen = Math.min(into.firstSeen, s.firstSeen);
        into.lastSeen = Math.max(into.lastSeen, s.lastSeen);
        for (const [m, c] of s.perMinute) into.perMinute.set(m, (into.perMinute.get(m) ?? 0) + c);
      }
      table.byKey.clear();
      for (const [k, v] of merged) table.byKey.set(k, v);
    }
  }

  changes(): Change[] {
    return dedupeChanges(this.rawChanges);
  }

  /** Zero-filled per-minute series from the first line of any level (not the window start: no fake quiet baseline). */
  problemSeries(endMs: number): { startMin: number; counts: number[] } {
    if (!Number.isFinite(this.firstTs)) return { startMin: minuteOf(endMs), counts: [] };
    const startMin = minuteOf(this.firstTs);
    const endMin = minuteOf(Math.min(endMs, this.lastTs));
    const counts: number[] = [];
    for (let m = startMin; m <= endMin; m++) counts.push(this.problemPerMinute.get(m) ?? 0);
    return { startMin, counts };
  }
}

const firstLine = (s: string) => {
  const nl = s.indexOf('\n');
  const f = nl < 0 ? s : s.slice(0, nl);
  return f.length > 4096 ? f.slice(0, 4096) : f;
};

/** " | NullPointerException at PaymentProcessor.java:142" for a folded trace, unless the first line says it already. */
function traceIdentity(first: string, rest: string): string {
  const body = rest.length > 16_384 ? rest.slice(0, 16_384) : rest;
  const ex = TRACE_EXCEPTION.exec(body)?.[1];
  const fr = TRACE_FRAME.exec(body);
  const loc = fr ? (fr[1] ?? `${fr[2]}:${fr[3]}`) : null;
  let out = '';
  if (ex && !first.includes(ex.slice(ex.lastIndexOf('.') + 1))) out += ` | ${ex}`;
  if (loc && !first.includes(loc)) out += ` at ${loc}`;
  return out;
}

/** The template as shown: runs of wildcards collapse, so "<*> <*> <*>" reads as one value. */
function displayTemplate(tokens: string[]): string {
  const out: string[] = [];
  for (const t of tokens) if (!(t === WILDCARD && out[out.length - 1] === WILDCARD)) out.push(t);
  return out.join(' ');
}
