import { IDENTITY, WORKLOAD, containsToken, promString, seriesKey, toFamilies, type Discovery, type Family } from './discover';
import type { Labels, PromClient } from './prom';

/**
 * A service's incident often shows first in something it depends on: the queue it consumes,
 * the search cluster it writes to. Neighbours are found without knowing the architecture:
 * other services in the same namespace, series that share a distinctive label value with the
 * service (queue="notifications.email"), and label values the incident text names.
 */

const NAMESPACE = ['namespace', 'kubernetes_namespace', 'k8s_namespace', 'exported_namespace'];
const OWNER = ['service', 'job', 'app', 'app_kubernetes_io_name', 'container'];
// Labels whose values are shared by everything (GET, 200, heap): sharing them links nothing.
const NOT_LINKING = new Set([
  ...IDENTITY, ...WORKLOAD, ...NAMESPACE, '__name__', 'le', 'quantile', 'method', 'code', 'status', 'status_code', 'result', 'outcome',
  'handler', 'uri', 'path', 'route', 'endpoint', 'version', 'goversion', 'area', 'id', 'reason', 'state', 'unit', 'resource', 'mount', 'node',
]);
const MAX_GROUPS = 8;
const MAX_SERIES = 3000;
const MAX_OWNERS_PER_VALUE = 3;

export interface RelatedResult {
  families: Family[];
  /** e.g. 'service="rabbitmq" (shares queue="notifications.email")' */
  groups: string[];
}

const distinctive = (v: string) => v.length >= 5 && !/^[\d.:]+$/.test(v) && !/^(true|false|none|null|default)$/i.test(v);

function ownerOf(s: Labels): { label: string; value: string } | null {
  for (const l of OWNER) if (s[l]) return { label: l, value: s[l] };
  return null;
}

export async function findRelated(prom: PromClient, discovery: Discovery, service: string, incidentText: string, start: number, end: number): Promise<RelatedResult> {
  const candidates: Array<{ matcher: string; why: string }> = [];
  const focal = discovery.series;
  const focalOwners = new Set(focal.map((s) => ownerOf(s)?.value).filter(Boolean) as string[]);
  focalOwners.add(service);

  for (const ns of new Set(focal.flatMap((s) => NAMESPACE.map((l) => (s[l] ? `${l}=${promString(s[l])}` : ''))).filter(Boolean))) {
    candidates.push({ matcher: ns, why: `same ${ns}` });
  }
  const shared = new Set<string>();
  for (const s of focal) {
    for (const [l, v] of Object.entries(s)) {
      if (!NOT_LINKING.has(l) && distinctive(v)) shared.add(`${l}=${promString(v)}`);
    }
  }
  for (const m of shared) candidates.push({ matcher: m, why: `shares ${m}` });
  const text = incidentText.toLowerCase();
  for (const [label, values] of discovery.labelValues) {
    if (label === '__name__' || WORKLOAD.includes(label) && !IDENTITY.includes(label)) continue;
    for (const v of values) {
      if (distinctive(v) && !focalOwners.has(v) && containsToken(text, v.toLowerCase())) {
        candidates.push({ matcher: `${label}=${promString(v)}`, why: `named in the incident` });
      }
    }
  }

  const focalKeys = new Set(focal.map(seriesKey));
  const taken = new Set<string>();
  const groups: Array<{ matcher: string; owner: string; why: string; series: Labels[] }> = [];
  let total = 0;
  for (const c of candidates) {
    if (groups.length >= MAX_GROUPS || total >= MAX_SERIES) break;
    let series: Labels[];
    try {
      series = await prom.series([`{${c.matcher}}`], start, end);
    } catch {
      continue;
    }
    const byOwner = new Map<string, { label: string; series: Labels[] }>();
    for (const s of series) {
      const o = ownerOf(s);
      if (!o || focalOwners.has(o.value) || focalKeys.has(seriesKey(s)) || taken.has(seriesKey(s))) continue;
      const g = byOwner.get(o.value) ?? { label: o.label, series: [] };
      g.series.push(s);
      byOwner.set(o.value, g);
    }
    // A value every service carries (a shared cluster name) links nothing in particular.
    if (!c.why.startsWith('same') && byOwner.size > MAX_OWNERS_PER_VALUE) continue;
    for (const [owner, g] of byOwner) {
      if (groups.length >= MAX_GROUPS || total >= MAX_SERIES) break;
      const matcher = `${g.label}=${promString(owner)}, ${c.matcher}`;
      g.series.forEach((s) => taken.add(seriesKey(s)));
      total += g.series.length;
      groups.push({ matcher, owner, why: c.why, series: g.series.slice(0, MAX_SERIES) });
    }
  }
  const metadata = groups.length ? await prom.metadata() : {};
  const families = groups.flatMap((g) => toFamilies([{ matcher: g.matcher, series: g.series }], metadata, 'related', g.owner));
  return { families, groups: groups.map((g) => `${g.owner} (${g.why})`) };
}
