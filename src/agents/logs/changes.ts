import { redactText } from '../redact';
import type { Level } from './levels';
import type { LogRecord } from './record';
import { iso } from './record';

export interface Change {
  ts: number;
  kind: 'deploy' | 'rollback' | 'config' | 'feature_flag' | 'scale';
  id: string | null;
  description: string;
}

/** Streams whose every line is a change record (CD tools, Kubernetes events, flag services, audit logs). */
const CHANGE_STREAM =
  /^(deploy|deploys|deployment|deployments|rollout|rollouts|release|releases|argo\w*|flux\w*|spinnaker|jenkins|github-actions|ci|cd|k8s-events|kube-events|kubernetes-events|events|audit|config|configmap|feature-?flags?|flags|launchdarkly|unleash|flagd|changes?)$/i;

export function isChangeStream(labels: Record<string, string>): boolean {
  return ['kind', 'type', 'source', 'event', 'stream', 'job', 'app', 'component', 'category', 'logger'].some(
    (k) => labels[k] !== undefined && CHANGE_STREAM.test(labels[k]!),
  );
}

const VERSIONED = /\b([A-Za-z][\w.-]*?[-_@])?(v?\d+\.\d+(?:\.\d+)?(?:[-+][\w.]+)?)\b/g;
const IMAGE = /\b(?:[\w.-]+(?::\d+)?\/)*([a-z][\w.-]*):(v?[\w][\w.-]*)\b/;
const SHA = /\b(?:commit|sha|revision|rev|build)[ #:=]+([0-9a-f]{7,40})\b/i;

function field(json: Record<string, unknown> | null, ...keys: string[]): string | null {
  for (const k of keys) {
    const v = json?.[k];
    if (typeof v === 'string' && v.trim()) return v.trim();
    if (typeof v === 'number') return String(v);
  }
  return null;
}

/** The version being rolled out, in the most specific form the line offers. */
function deployId(text: string, json: Record<string, unknown> | null): string | null {
  const f = field(json, 'version', 'image', 'release', 'tag', 'revision', 'artifact');
  const src = f ?? text;
  // matchAll iterates a copy, so the shared global regex keeps no state between calls.
  const versions = [...src.matchAll(VERSIONED)];
  // "checkout-service-v2.14.3" names the artifact better than a bare "v2.14.3" or an image tag.
  const named = versions.find((m) => m[1]);
  if (named) return `${named[1]}${named[2]}`;
  const img = IMAGE.exec(src);
  if (img && /\d/.test(img[2]!)) return `${img[1]}:${img[2]}`;
  if (versions[0]) return versions[0][2]!;
  const sha = SHA.exec(src);
  if (sha) return sha[1]!;
  return f;
}

const STOP = new Set(['is', 'was', 'has', 'been', 'set', 'to', 'the', 'a', 'an', 'for', 'from', 'changed', 'updated', 'enabled', 'disabled', 'flipped', 'toggled', 'turned', 'on', 'off', 'value', 'state', 'name', 'key']);

function flagId(text: string, json: Record<string, unknown> | null): string | null {
  const f = field(json, 'flag', 'flag_key', 'flagKey', 'feature', 'feature_flag', 'key', 'name');
  if (f) return f;
  const kv = /\b(?:flag|flag_?key|feature|key|name)\s*[=:]\s*["'`]?([\w.:/-]+)/i.exec(text);
  if (kv) return kv[1]!;
  const quoted = /(?:flag|toggle|feature)s?\b[^"'`]{0,20}["'`]([\w.:/-]+)["'`]/i.exec(text);
  if (quoted) return quoted[1]!;
  const after = /(?:flag|toggle|feature)s?\b\s*[:=]?\s*((?:[\w.:/-]+\s*){1,3})/i.exec(text);
  if (after) for (const t of after[1]!.split(/\s+/)) if (t && !STOP.has(t.toLowerCase()) && /[\w]/.test(t)) return t;
  const bool = /\b([\w.-]*(?:enabled|enable|flag)[\w.-]*)\s*[=:]\s*(?:true|false|on|off)/i.exec(text);
  return bool ? bool[1]! : null;
}

function configId(text: string, json: Record<string, unknown> | null): string | null {
  const f = field(json, 'configmap', 'config', 'key', 'setting', 'name');
  if (f) return f;
  const cm = /\bconfig\s?map[s]?\b\s*[/:]?\s*["'`]?([\w.-]+)/i.exec(text);
  if (cm && !STOP.has(cm[1]!.toLowerCase())) return cm[1]!;
  const kv = /\b([a-z][\w-]*(?:\.[\w-]+)+)\b\s*(?:[:=]|changed|from)/i.exec(text);
  return kv ? kv[1]! : null;
}

const POD_LIFECYCLE = /\b(Pulled|Pulling|Scheduled|Started|Created|Killing|BackOff|Unhealthy|OOMKilled|Evicted|SuccessfulCreate|SuccessfulDelete)\b/;

/** A service reading its flags is not anyone changing them. */
const FLAG_READ = /\b(?:flags?|toggles?) (?:loaded|evaluated|initiali[sz]ed|refreshed|fetched|synced|cached|read)\b/i;

const RE = {
  rollback: /\b(roll(?:ed|ing)?[ -]?back|rollback|revert(?:ed|ing)?)\b/i,
  deployStrong: /\b(deploy(?:ed|ing)?|deployment (?:started|complete|completed|finished|succeeded|updated|rolled out|progressing|of)|rolling update|rollout|rolled out|rolling out|canary (?:started|promoted|deployed))\b/i,
  deployWeak: /\b(releas(?:e|ed|ing)|upgrad(?:e|ed|ing)|image (?:updated|changed|set|pulled)|new version|promot(?:e|ed|ing)|pulled image|successfully pulled)\b/i,
  config: /\b(config\s?maps?|configuration|config|settings?|secret)\b[^.]{0,60}\b(chang(?:e|ed|ing)|updat(?:e|ed|ing)|modif(?:y|ied)|appl(?:y|ied)|reload(?:ed)?|patch(?:ed)?|edit(?:ed)?|rolled out|pushed)\b|\b(chang(?:e|ed)|updat(?:e|ed)|modified|applied|reloaded|patched|edited)\b[^.]{0,40}\b(config\s?maps?|configuration|config)\b/i,
  flag: /\b(feature[ _-]?flags?|feature[ _-]?toggles?|flags?|toggles?)\b[^\n]{0,80}(?:\b(enabled|disabled|turned (?:on|off)|switched|flipped|toggled|changed|updated|modified|created|set to|rolled out|rollout|percentage|targeting|variant|true|false|on|off)\b|\d+%)/i,
  scale: /\b(scaled (?:up|down)|scaling (?:up|down)|scaled replica ?set|autoscal\w*|horizontal ?pod ?autoscaler|replicas? (?:changed|set|updated|from|to)|desired replicas)\b/i,
};

/**
 * Is this line a change event? Application lines at WARN and above are symptoms, not changes,
 * unless they come from a change stream ("deploy failed" from the CD tool is still a deploy).
 */
export function detectChange(rec: LogRecord, level: Level, json: Record<string, unknown> | null, message: string): Change | null {
  const fromChangeStream = isChangeStream(rec.labels);
  if (!fromChangeStream && (level === 'error' || level === 'fatal' || level === 'warn')) return null;
  const text = message;
  const jsonKind = field(json, 'event', 'event_type', 'type', 'kind', 'action', 'reason')?.toLowerCase() ?? '';
  // Redacting the description is the costliest step and most lines are no change: only for a hit.
  const mk = (kind: Change['kind'], id: string | null): Change => ({
    ts: rec.ts,
    kind,
    id: id ? redactText(id) : null,
    description: redactText(text.replace(/\s+/g, ' ').trim()).slice(0, 200),
  });

  if (RE.rollback.test(text) || /rollback/.test(jsonKind)) return mk('rollback', deployId(text, json));
  const flagStream = Object.values(rec.labels).some((v) => /^(feature-?flags?|flags|flagd|launchdarkly|unleash|split|flagsmith|growthbook)$/i.test(v));
  if ((RE.flag.test(text) || /flag|toggle/.test(jsonKind) || flagStream) && !FLAG_READ.test(text)) {
    const id = flagId(text, json);
    if (id || fromChangeStream) return mk('feature_flag', id);
  }
  if (RE.scale.test(text) || /scal/.test(jsonKind)) {
    const target = /\b(?:replica ?set|deployment|statefulset|hpa)\s+["'`]?([\w.-]+)/i.exec(text)?.[1] ?? field(json, 'deployment', 'target', 'name');
    return mk('scale', target ?? null);
  }
  if (RE.config.test(text) || /config/.test(jsonKind)) return mk('config', configId(text, json));
  if (RE.deployStrong.test(text) || /deploy|rollout|release/.test(jsonKind)) return mk('deploy', deployId(text, json));
  // The id is looked for only once a line could be a deploy: it is pure, and most lines are not.
  const weak = RE.deployWeak.test(text);
  if (!weak && !fromChangeStream) return null;
  const id = deployId(text, json);
  if (weak && id && /\d/.test(id)) return mk('deploy', id);
  // Pod lifecycle events (image pulled, container started) follow a rollout; they are not changes of their own.
  if (fromChangeStream && id && !POD_LIFECYCLE.test(text)) return mk('deploy', id);
  return null;
}

/** checkout-service-v2.14.3, checkout-service:v2.14.3 and checkout-service@2.14.3 name one artifact. */
const canonicalId = (id: string) => id.toLowerCase().replace(/[-_:@]v?(?=\d+\.\d)/, '@');
const sameId = (a: string | null, b: string | null) => a === b || (a !== null && b !== null && canonicalId(a) === canonicalId(b));

/**
 * One event per change: a rollout logs "started", "progressing", "complete" for the same version;
 * the first line is when it began taking effect.
 */
export function dedupeChanges(changes: Change[]): Change[] {
  const sorted = [...changes].sort((a, b) => a.ts - b.ts);
  const out: Change[] = [];
  for (const c of sorted) {
    const window = c.id ? 30 * 60_000 : 5 * 60_000;
    const dup = out.find((o) => o.kind === c.kind && sameId(o.id, c.id) && c.ts - o.ts <= window);
    if (!dup) out.push(c);
  }
  return out;
}

export function describeChange(c: Change): string {
  return `${iso(c.ts)} ${c.kind}${c.id ? ` ${c.id}` : ''}: ${c.description}`;
}
