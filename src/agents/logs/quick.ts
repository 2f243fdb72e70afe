/**
 * The fast path for the bulk of a log: INFO/DEBUG lines that cannot be a change event or INFO
 * evidence are only counted (time, level), never parsed or mined. Decided on the raw text with
 * one keyword scan, so 90% of a busy service's lines cost a few hundred nanoseconds. The test is
 * a superset: any line it lets through gets the full treatment.
 */
type Quiet = 'info' | 'debug';

import { KeywordSet } from './keywords';

/** Words that make an INFO line evidence: managed-database events, slow queries, waits, failovers, saturation. */
const EVIDENCE_WORDS = [
  'slow', ' wait', ' lock', 'deadlock', 'timeout', 'timed out', 'failover', 'fail-over', 'promot', 'demot', 'reboot', 'restart',
  'maintenance', 'throttl', 'exhaust', 'saturat', 'backlog', ' lag ', 'lagging', 'evict', ' oom', 'memory pressure', 'disk full',
  'no space', 'degrad', 'unavailable', 'refus', 'reject', 'retry', 'retrying', 'replica', 'checkpoint', 'vacuum', 'connection limit',
  'too many', 'queue full', 'backpressure', 'circuit', 'rate limit',
];
export const INFO_EVIDENCE = new KeywordSet(EVIDENCE_WORDS);

/**
 * Words without which a line is neither a change (detectChange) nor evidence (INFO_EVIDENCE),
 * including change-stream label values, which appear in a JSON line's raw text.
 */
const CHANGE_WORDS = [
  'deploy', ' roll', 'releas', 'upgrad', 'image', 'version', 'promot', 'pull', 'config', 'setting', 'secret', 'flag', 'toggle',
  'feature', 'scal', 'replica', 'revert', 'helm', 'argo', 'flux', 'sync', 'revision', 'canary', 'spinnaker', 'jenkins', 'github',
  'pipeline', 'audit', 'event', 'change', 'launchdarkly', 'unleash', 'growthbook', '"ci"', '"cd"',
];
export const MAY_MATTER = new KeywordSet([...CHANGE_WORDS, ...EVIDENCE_WORDS]);

const QUIET: Record<string, Quiet> = { info: 'info', information: 'info', notice: 'info', i: 'info', debug: 'debug', trace: 'debug', d: 'debug', verbose: 'debug' };

/** JSON line: the value of its (first) "level" key, if quiet. JSON escapes keep this from matching inside strings. */
export function quietJsonLevel(text: string): Quiet | null {
  let k = text.indexOf('"level":');
  if (k < 0) return null;
  k += 8;
  if (text[k] === ' ') k++;
  if (text[k] !== '"') return null;
  const e = text.indexOf('"', k + 1);
  if (e < 0 || e - k > 12) return null;
  return QUIET[text.slice(k + 1, e).toLowerCase()] ?? null;
}

/** Plain line: a quiet level word among the first header tokens after the stamp ("INFO", "[DEBUG]"). */
export function quietTextLevel(text: string, from: number): Quiet | null {
  let i = from;
  for (let tok = 0; tok < 4 && i < text.length && i - from < 80; tok++) {
    while (text.charCodeAt(i) === 32 || text.charCodeAt(i) === 9) i++;
    let j = i;
    while (j < text.length && text.charCodeAt(j) > 32 && j - i < 40) j++;
    let a = i;
    let b = j;
    while (a < b && '[(<'.includes(text[a]!)) a++;
    while (b > a && '])>:,'.includes(text[b - 1]!)) b--;
    const w = text.slice(a, b).toLowerCase();
    if (w === 'error' || w === 'warn' || w === 'warning' || w === 'fatal' || w === 'err' || w === 'critical' || w === 'severe') return null;
    const q = QUIET[w];
    if (q && w.length > 1) return q;
    i = j;
  }
  return null;
}
