import type { Denial } from '../driver';

/**
 * Turns srt's debug lines (its stderr, with --debug) into Denial records. One refusal produces a
 * filter line ("No matching config rule, denying: h:p") and then a proxy line ("HTTP request
 * blocked to h:p" / "Connection blocked to h:p"); the proxy line is only recorded when no filter
 * line announced it (e.g. a resolved-address refusal).
 */
const PREFIX = '[SandboxDebug] ';
const FILTER_RULES: [RegExp, string][] = [
  [/^No matching config rule, denying: (.+)$/, 'host is not on the allow list'],
  [/^Denied by config rule: (.+)$/, 'host is on the deny list'],
  [/^Denying malformed host: (.+)$/, 'malformed host'],
];
const PROXY_RULES: [RegExp, string][] = [
  [/^HTTP request blocked to (.+)$/, 'blocked by the sandbox proxy'],
  [/^Connection blocked to (.+)$/, 'blocked by the sandbox proxy'],
];

export class DenialParser {
  /** Filter denials not yet matched by their proxy line, per host:port. */
  private pending = new Map<string, number>();

  /** Returns the denial a line records, or null. */
  parse(line: string): Denial | null {
    if (!line.startsWith(PREFIX)) return null;
    const msg = line.slice(PREFIX.length).trim();
    for (const [re, reason] of FILTER_RULES) {
      const m = re.exec(msg);
      if (!m) continue;
      const d = toDenial(m[1]!, reason);
      if (d) this.pending.set(key(d), (this.pending.get(key(d)) ?? 0) + 1);
      return d;
    }
    for (const [re, reason] of PROXY_RULES) {
      const m = re.exec(msg);
      if (!m) continue;
      const d = toDenial(m[1]!, reason);
      if (!d) return null;
      const n = this.pending.get(key(d)) ?? 0;
      if (n > 0) {
        if (n === 1) this.pending.delete(key(d));
        else this.pending.set(key(d), n - 1);
        return null;
      }
      return d;
    }
    return null;
  }
}

function key(d: Denial): string {
  return `${d.host}:${d.port}`;
}

function toDenial(hostPort: string, reason: string): Denial | null {
  const s = hostPort.replace(/^"|"$/g, '');
  const i = s.lastIndexOf(':');
  if (i <= 0) return null;
  const port = Number(s.slice(i + 1));
  if (!Number.isInteger(port)) return null;
  return { host: s.slice(0, i).replace(/^\[|\]$/g, ''), port, binary: null, reason };
}
