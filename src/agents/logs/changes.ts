import { redactText } from '../redact';
import type { Level } from './levels';
import type { LogRecord } from './record';
import { iso } from './record';

export interface Change {
  ts: number;
  kind: 'deploy' | 'rollback' | 'config' | 'feature_flag' | 'scale';
  /** The object changed, with its revision where the event carries one (configmap/coredns rev 812, helm/checkout rev 7). */
  id: string | null;
  description: string;
  /** The revision or value the object moved to (v2.14.3, 812, on, 25%), when the event says. */
  revision?: string;
  /** Where it applies: the service and namespace named by the event or its stream. */
  scope?: { service?: string; namespace?: string };
}

/** A failed image pull is an error of the rollout, not a rollout: never a change. */
export const IMAGE_PULL_FAILURE = /ErrImagePull|ImagePullBackOff|Failed to pull image|failed to pull and unpack|pull access denied|manifest unknown|InvalidImageName|ErrImageNeverPull/i;

const K8S_OBJECT = /\b(config\s?maps?|secrets?)\b[\s/:"'`]{1,4}(?:([a-z0-9][\w.-]{0,62})\/)?([a-z0-9][\w.-]{0,252})/i;
const REVISION = /\b(?:resource_?version|resourceVersion|revision|rev|generation)[\s=:#"]{1,3}([\w.-]{1,64})/i;
const HELM = /\bhelm\b|Release "[\w.-]+" has been (?:upgraded|installed)|\bhelm[_-]?release\b/i;
const HELM_RELEASE = /(?:Release "([\w.-]+)"|\brelease[\s=:"]{1,3}([\w.-]+)|helm (?:upgrade|install|rollback)(?: --install)? ([\w.-]+))/i;
const ARGO = /\bargo\s?cd\b|\bargocd\b|\bsync(?:ed| operation)\b[^\n]{0,80}\brevision\b/i;
const ARGO_APP = /\b(?:application|app)[\s=:"/]{1,3}([\w.-]{1,120})/i;
const SHA_REV = /\b(?:revision|rev|to|commit)[\s=:"]{1,3}([0-9a-f]{7,40}|v?\d+(?:\.\d+){1,3}[\w.-]*)\b/i;
const NAMESPACE = /\bnamespace[\s=:"]{1,3}([a-z0-9][\w.-]{0,62})/i;
const SERVICE = /\b(?:service|app|application)[\s=:"]{1,3}([a-z0-9][\w.-]{0,62})/i;
/** A flag's new value: "off -> on", "value=true", "set to 25%", "enabled". First that applies. */
const FLAG_VALUES = [
  /(?:->|→|=>)\s*["'`]?([\w.%-]{1,40})/,
  /\b(?:value|variant|new_value|state)\s*[=:]\s*["'`]?([\w.%-]{1,40})/i,
  /\b(?:set to|changed to|switched to|now)\s+["'`]?([\w.%-]{1,40})/i,
  /\b(enabled|disabled|turned on|turned off)\b/i,
];
const flagValue = (text: string) => {
  for (const re of FLAG_VALUES) {
    const m = re.exec(text);
    if (m) return m[1]!;
  }
  return null;
};

function scopeOf(rec: LogRecord, text: string, json: Record<string, unknown> | null): Change['scope'] {
  const namespace = field(json, 'namespace') ?? NAMESPACE.exec(text)?.[1];
  const service = field(json, 'service', 'app', 'application') ?? SERVICE.exec(text)?.[1];
  const scope: NonNullable<Change['scope']> = {};
  if (namespace) scope.namespace = namespace;
  if (service) scope.service = service;
  // The stream's own labels say where the event came from, not what it changed, unless it is the app's own log.
  if (!isChangeStream(rec.labels)) {
    if (!scope.service && (rec.labels.app ?? rec.labels.service)) scope.service = rec.labels.app ?? rec.labels.service;
    if (!scope.namespace && rec.labels.namespace) scope.namespace = rec.labels.namespace;
  }
  return scope;
}

/** Streams whose every line is a change record (CD tools, Kubernetes events, flag services, audit logs). */
const CHANGE_STREAM =
  /^(deploy|deploys|deployment|deployments|rollout|rollouts|release|releases|argo\w*|flux\w*|spinnaker|jenkins|github-actions|ci|cd|k8s-events|kube-events|kubernetes-events|events|audit|config|configmap|feature-?flags?|flags|launchdarkly|unleash|flagd|changes?)$/i;

export function isChangeStream(labels: Record<string, string>): boolean {
  return ['kind', 'type', 'source', 'event', 'stream', 'job', 'app', 'component', 'category', 'logger'].some(
    (k) => labels[k] !== undefined && CHANGE_STREAM.test(labels[k]!),
  );
}

const VERSIONED = /\b([A-Za-z][\w.-]{0,80}?[-_@])?(v?\d{1,9}\.\d{1,9}(?:\.\d{1,9})?(?:[-+][\w.]{1,40})?)\b/g;
const IMAGE = /\b(?:[\w.-]{1,100}(?::\d{1,5})?\/){0,6}([a-z][\w.-]{0,100}):(v?\w[\w.-]{0,60})\b/;
const SHA = /\b(?:commit|sha|revision|rev|build)[ #:=]{1,3}([0-9a-f]{7,40})\b/i;

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
  const kv = /\b(?:flag|flag_?key|feature|key|name)\s{0,3}[=:]\s{0,3}["'`]?([\w.:/-]{1,100})/i.exec(text);
  if (kv) return kv[1]!;
  const quoted = /(?:flag|toggle|feature)s?\b[^"'`]{0,20}["'`]([\w.:/-]{1,100})["'`]/i.exec(text);
  if (quoted) return quoted[1]!;
  const after = /(?:flag|toggle|feature)s?\b\s{0,3}[:=]?\s{0,3}((?:[\w.:/-]{1,60}\s{0,3}){1,3})/i.exec(text);
  if (after) for (const t of after[1]!.split(/\s+/)) if (t && !STOP.has(t.toLowerCase()) && /[\w]/.test(t)) return t;
  const bool = /\b([\w.-]{0,60}(?:enabled|enable|flag)[\w.-]{0,60})\s{0,3}[=:]\s{0,3}(?:true|false|on|off)/i.exec(text);
  return bool ? bool[1]! : null;
}

function configId(text: string, json: Record<string, unknown> | null): string | null {
  const f = field(json, 'configmap', 'config', 'key', 'setting', 'name');
  if (f) return f;
  const cm = /\bconfig\s?map[s]?\b\s{0,3}[/:]?\s{0,3}["'`]?([\w.-]{1,100})/i.exec(text);
  if (cm && !STOP.has(cm[1]!.toLowerCase())) return cm[1]!;
  const kv = /\b([a-z][\w-]{0,60}(?:\.[\w-]{1,60}){1,8})\b\s{0,3}(?:[:=]|changed|from)/i.exec(text);
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
  // Change events are short; the head is enough, and it bounds every pattern's cost on crafted lines.
  const text = message.length > 2000 ? message.slice(0, 2000) : message;
  const jsonKind = field(json, 'event', 'event_type', 'type', 'kind', 'action', 'reason')?.toLowerCase() ?? '';
  // Redacting the description is the costliest step and most lines are no change: only for a hit.
  const mk = (kind: Change['kind'], id: string | null): Change => ({
    ts: rec.ts,
    kind,
    id: id ? redactText(id) : null,
    description: redactText(text.slice(0, 400).replace(/\s+/g, ' ').trim()).slice(0, 200),
  });

  if (IMAGE_PULL_FAILURE.test(text)) return null;
  const scoped = (c: Change): Change => ({ ...c, scope: scopeOf(rec, text, json) });
  const rev = (r: string | null | undefined, c: Change): Change => (r ? { ...c, revision: redactText(r) } : c);

  // Kubernetes objects by kind and name (never their namespace): ConfigMap / Secret.
  const objKind = field(json, 'kind')?.toLowerCase() ?? (json?.involvedObject as Record<string, unknown> | undefined)?.kind;
  const obj = K8S_OBJECT.exec(text);
  if ((obj || objKind === 'configmap' || objKind === 'secret') && (RE.config.test(text) || /updat|modif|patch|appl|creat|chang|edit/i.test(text))) {
    const involved = (json?.involvedObject ?? json?.metadata ?? json?.object) as Record<string, unknown> | undefined;
    const kind = obj ? (/secret/i.test(obj[1]!) ? 'secret' : 'configmap') : objKind === 'secret' ? 'secret' : 'configmap';
    const name = field(json, 'name') ?? (typeof involved?.name === 'string' ? involved.name : null) ?? obj?.[3] ?? null;
    const revision = field(json, 'resourceVersion', 'revision', 'generation') ?? (typeof involved?.resourceVersion === 'string' ? involved.resourceVersion : null) ?? REVISION.exec(text)?.[1] ?? null;
    if (name && !STOP.has(name.toLowerCase())) {
      const c = scoped(mk('config', `${kind}/${name}${revision ? ` rev ${revision}` : ''}`));
      if (obj?.[2] && !c.scope?.namespace) c.scope = { ...c.scope, namespace: obj[2] };
      return rev(revision, c);
    }
  }
  // Helm releases and Argo CD syncs by release/application and revision.
  if (HELM.test(text) && !RE.rollback.test(text)) {
    const h = HELM_RELEASE.exec(text);
    const name = field(json, 'release', 'releaseName') ?? h?.[1] ?? h?.[2] ?? h?.[3] ?? null;
    const revision = field(json, 'revision') ?? REVISION.exec(text)?.[1] ?? null;
    if (name) return rev(revision, scoped(mk('deploy', `helm/${name}${revision ? ` rev ${revision}` : ''}`)));
  }
  if (ARGO.test(text) || /^argo/i.test(rec.labels.app ?? rec.labels.job ?? '')) {
    const app = field(json, 'application', 'app') ?? ARGO_APP.exec(text)?.[1] ?? null;
    const revision = field(json, 'revision', 'syncRevision') ?? SHA_REV.exec(text)?.[1] ?? null;
    if (app && (revision || /sync/i.test(text))) return rev(revision, scoped(mk('deploy', `argocd/${app}${revision ? ` rev ${revision}` : ''}`)));
  }

  if (RE.rollback.test(text) || /rollback/.test(jsonKind)) return scoped(mk('rollback', deployId(text, json)));
  const flagStream = Object.values(rec.labels).some((v) => /^(feature-?flags?|flags|flagd|launchdarkly|unleash|split|flagsmith|growthbook)$/i.test(v));
  if ((RE.flag.test(text) || /flag|toggle/.test(jsonKind) || flagStream) && !FLAG_READ.test(text)) {
    const id = flagId(text, json);
    const value = field(json, 'value', 'variant', 'new_value', 'newValue', 'to') ?? flagValue(text);
    if (id || fromChangeStream) return rev(value, scoped(mk('feature_flag', id)));
  }
  if (RE.scale.test(text) || /scal/.test(jsonKind)) {
    const target = /\b(?:replica ?set|deployment|statefulset|hpa)\s{1,3}["'`]?([\w.-]{1,100})/i.exec(text)?.[1] ?? field(json, 'deployment', 'target', 'name');
    return scoped(mk('scale', target ?? null));
  }
  if (RE.config.test(text) || /config/.test(jsonKind)) return scoped(mk('config', configId(text, json)));
  if (RE.deployStrong.test(text) || /deploy|rollout|release/.test(jsonKind)) return scoped(mk('deploy', deployId(text, json)));
  // The id is looked for only once a line could be a deploy: it is pure, and most lines are not.
  const weak = RE.deployWeak.test(text);
  if (!weak && !fromChangeStream) return null;
  const id = deployId(text, json);
  if (weak && id && /\d/.test(id)) return scoped(mk('deploy', id));
  // Pod lifecycle events (image pulled, container started) follow a rollout; they are not changes of their own.
  if (fromChangeStream && id && !POD_LIFECYCLE.test(text)) return scoped(mk('deploy', id));
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
