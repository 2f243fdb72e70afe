/**
 * The header of a log line (after its timestamp): level, pid/thread ids, bracketed thread or
 * context groups, the logger or class, and a syslog host + tag. These vary per line (threads,
 * hosts, pids) or say nothing about what happened (levels), so template mining starts after them.
 * A character cursor, bounded to the first few hundred characters: linear on any input.
 */

const LEVELS = new Set([
  'FATAL', 'CRITICAL', 'CRIT', 'PANIC', 'EMERG', 'EMERGENCY', 'ALERT', 'SEVERE', 'ERROR', 'ERR', 'EROR', 'WARN', 'WARNING', 'WRN',
  'INFO', 'INF', 'INFORMATION', 'NOTICE', 'DEBUG', 'DBG', 'TRACE', 'TRC', 'VERBOSE', 'FINE', 'FINER', 'FINEST', 'CONFIG', 'LOG',
  'STATEMENT', 'DETAIL', 'HINT',
]);

const HEAD_LIMIT = 400;
const isSpace = (c: string | undefined) => c === ' ' || c === '\t';
const isWordChar = (code: number) =>
  (code >= 48 && code <= 57) || (code >= 65 && code <= 90) || (code >= 97 && code <= 122) || code === 95;

/** The next whitespace-delimited token from i (not past the head limit). */
function tokenAt(s: string, i: number): [string, number] {
  let j = i;
  const lim = Math.min(s.length, i + HEAD_LIMIT);
  while (j < lim && !isSpace(s[j])) j++;
  return [s.slice(i, j), j];
}

/** The end of a bracket group starting at i ("[...]" with nesting), or -1. */
function groupEnd(s: string, i: number): number {
  const open = s[i]!;
  const close = open === '[' ? ']' : open === '(' ? ')' : '>';
  let depth = 0;
  const lim = Math.min(s.length, i + 200);
  for (let j = i; j < lim; j++) {
    if (s[j] === open) depth++;
    else if (s[j] === close && --depth === 0) return j + 1;
  }
  return -1;
}

function isLevelWord(t: string): boolean {
  return t.length <= 11 && LEVELS.has(t.toUpperCase());
}

/** com.shop.Payment, c.s.Payment$Inner, dfs.DataNode$PacketResponder, nova.compute.manager, controller.go:42 */
function isLoggerName(t: string): boolean {
  if (t.length < 2 || t.length > 120) return false;
  const c0 = t.charCodeAt(0);
  if (!((c0 >= 65 && c0 <= 90) || (c0 >= 97 && c0 <= 122) || c0 === 95)) return false;
  let dots = 0;
  for (let k = 0; k < t.length; k++) {
    const c = t.charCodeAt(k);
    if (c === 46) dots++;
    else if (!isWordChar(c) && c !== 36 /* $ */ && c !== 45 /* - */ && c !== 64 /* @ */ && c !== 58 /* : */) return false;
  }
  return dots > 0 || t.includes('$');
}

/**
 * Index where the message starts. `from` is just past the timestamp (0 when there is none).
 * Conservative: a token is taken for header only in the shapes headers have.
 */
export function messageStart(s: string, from = 0): number {
  let i = from;
  let sawLevel = false;
  let sawLogger = false;
  let steps = 0;
  const skipSpaces = () => {
    while (i < s.length && isSpace(s[i])) i++;
  };
  while (steps++ < 12 && i < s.length && i - from < HEAD_LIMIT) {
    skipSpaces();
    const c = s[i];
    // Separators between header fields: "-", "|", ":", ",", "---", ">" standing alone.
    if ((c === '-' || c === '|' || c === ':' || c === ',' || c === '>' || c === ';') && (isSpace(s[i + 1]) || i + 1 >= s.length || s[i + 1] === c)) {
      while (s[i] === c) i++;
      continue;
    }
    if (c === '[' || (c === '<' && !sawLevel)) {
      const e = groupEnd(s, i);
      if (e < 0) break;
      const inner = s.slice(i + 1, e - 1).trim();
      if (isLevelWord(inner)) sawLevel = true;
      // "[instance: <uuid>]" and the like are context, but so is every bracketed group at the head.
      i = e;
      if (s[i] === ':') i++;
      continue;
    }
    const [tok, end] = tokenAt(s, i);
    if (tok === '') break;
    const bare = tok.replace(/[:\]]+$/, '');
    // LEVEL, LEVEL:, and Python's LEVEL:logger:message.
    if (!sawLevel && (isLevelWord(bare) || isLevelWord(tok.split(':')[0]!))) {
      const parts = tok.split(':');
      if (isLevelWord(bare)) {
        sawLevel = true;
        i = end;
        continue;
      }
      if (parts.length >= 3 && isLevelWord(parts[0]!)) {
        // ERROR:root:message — the message may start right after the second colon.
        sawLevel = true;
        i += parts[0]!.length + 1 + parts[1]!.length + 1;
        continue;
      }
    }
    // pid, tid, thread numbers, "1234#1234:" (nginx), "*5678" only before the level or right after a stamp.
    if (/^\d+(#\d+)?:?$/.test(tok) && !sawLogger && steps <= 4) {
      i = end;
      continue;
    }
    // Single-letter level after pids (Android logcat "D", "E"), then its tag "Tag:".
    if (!sawLevel && tok.length === 1 && 'VDIWEFA'.includes(tok) && steps <= 5) {
      sawLevel = true;
      i = end;
      skipSpaces();
      const [tag, tagEnd] = tokenAt(s, i);
      if (tag.endsWith(':')) i = tagEnd;
      continue;
    }
    // Logger / class: dotted name, then ":" or " - " or " : " or a bracket.
    // klog/glog source location closing the header: "controller.go:114]".
    if (!sawLogger && /^[\w.-]+\.\w+:\d+\]$/.test(tok)) {
      sawLogger = true;
      sawLevel = true;
      i = end;
      continue;
    }
    // nginx connection number after the pid: "*5678".
    if (!sawLogger && steps <= 5 && /^\*\d+$/.test(tok)) {
      i = end;
      continue;
    }
    // Flask: "WARNING in views: msg".
    if (sawLevel && !sawLogger && tok === 'in') {
      const [mod, modEnd] = tokenAt(s, end + 1);
      if (/^[\w.]+:$/.test(mod)) {
        sawLogger = true;
        i = modEnd;
        continue;
      }
    }
    // A logger before the level when a separator follows: "app.worker - ERROR - msg".
    if (!sawLevel && !sawLogger && steps <= 4 && isLoggerName(bare) && / [-|] /.test(s.slice(end, end + 3))) {
      sawLogger = true;
      i = end;
      continue;
    }
    // One logger only: what follows it is the message, even if it looks dotted.
    if (sawLevel && !sawLogger && isLoggerName(bare) && !/(?:Exception|Error|Throwable)$/.test(bare)) {
      sawLogger = true;
      i = end;
      continue;
    }
    // syslog: "host tag[pid]:" or "host tag:" right after the stamp.
    if (!sawLevel && steps <= 2) {
      let j = end;
      while (isSpace(s[j])) j++;
      const [tag, tagEnd] = tokenAt(s, j);
      if (/^[\w.()/-]+\[\d+\]:$/.test(tag) || (/^[a-z][\w.()/-]*:$/.test(tag) && /[-.\d]/.test(tok) && !tok.includes('='))) {
        i = tagEnd;
        sawLevel = true; // what follows is the message
        break;
      }
    }
    break;
  }
  skipSpaces();
  return Math.min(i, s.length);
}
