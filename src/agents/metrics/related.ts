import { IDENTITY, WORKLOAD, containsToken, promString, seriesKey, toFamilies, variantsOf, type Discovery, type Family, type Relation } from './discover';
import { coMovement } from './comove';
import type { Labels, PromClient } from './prom';

/**
 * A service's incident often starts in something it depends on: the database it queries, the
 * search cluster it writes to, the queue it consumes. Neighbours are chosen by evidence, the
 * strongest first, never by name order:
 *  1. dependency: the service's own client-side series name them (upstream="orders-db:5432",
 *     db="orders", peer_service, destination_workload, server_address …), replicas included
 *     (orders-db-replica-1);
 *  2. variant: the service under a suffixed name (checkout-service-canary, -v2);
 *  3. named: the incident's text names them;
 *  4. shared: their series carry a distinctive label value the service's carry too
 *     (queue="notifications.email", db="orders"): fellow clients of one resource;
 *  5. namespace: the rest of the service's namespace, only with the budget left; when it holds
 *     more services than that, those whose series moved most around the symptom's onset first.
 * Which of them moved around the onset is decided later (culprit.ts), from their series.
 */

const NAMESPACE = ['namespace', 'kubernetes_namespace', 'k8s_namespace', 'exported_namespace'];
const OWNER = ['service', 'job', 'app', 'app_kubernetes_io_name', 'container'];
// Labels whose values are shared by everything (GET, 200, heap): sharing them links nothing.
const NOT_LINKING = new Set([
  ...IDENTITY, ...WORKLOAD, ...NAMESPACE, '__name__', 'le', 'quantile', 'method', 'code', 'status', 'status_code', 'result', 'outcome',
  'handler', 'uri', 'path', 'route', 'endpoint', 'version', 'goversion', 'area', 'id', 'reason', 'state', 'unit', 'resource', 'mount', 'node',
]);
/**
 * Client-side labels that name the other end of a call (OpenTelemetry semantic conventions:
 * server.address, peer.service, db.name, net.peer.name, messaging.destination; Istio:
 * destination_service, destination_workload; Envoy/nginx: upstream, upstream_cluster).
 */
const DEPENDENCY_LABEL =
  /^(upstream\w*|destination\w*|dest_\w+|dst_\w+|peer\w*|net_peer_\w+|target\w*|server\w*|remote\w*|backend\w*|db|db_name|db_system|db_instance|database|datname|datasource|pool_name|dependency|dep|callee\w*|outbound\w*|to_service|to|host|hostname|cluster_name|broker|bootstrap_servers|messaging_destination\w*|redis\w*|cache)$/i;
const MAX_GROUPS = 12;
const MAX_SERIES = 3000;
const MAX_OWNERS_PER_VALUE = 3;

export interface RelatedResult {
  families: Family[];
  /** e.g. 'rabbitmq (shares queue="notifications.email")' */
  groups: string[];
  /** Each neighbour's owner and the evidence that links it. */
  relations: Map<string, { relation: Relation; why: string; weight: number }>;
}

const distinctive = (v: string) => v.length >= 4 && !/^[\d.:]+$/.test(v) && !/^(true|false|none|null|default|unknown|localhost)$/i.test(v);

function ownerOf(s: Labels): { label: string; value: string } | null {
  for (const l of OWNER) if (s[l]) return { label: l, value: s[l] };
  return null;
}

/** "postgres://orders-db.data.svc:5432/orders" -> ["orders-db.data.svc", "orders-db", "orders"] */
export function endpointNames(value: string): string[] {
  const out = new Set<string>();
  let v = value.trim().toLowerCase().replace(/^[a-z][a-z0-9+.-]*:\/\//, '');
  v = v.replace(/^[^@/]*@/, '');
  const [hostPort, ...path] = v.split('/');
  const host = hostPort.replace(/:\d+$/, '');
  if (host) out.add(host);
  const first = host.split('.')[0];
  if (first && !/^\d+$/.test(first)) out.add(first);
  const db = path.join('/').split('?')[0];
  if (db) out.add(db);
  return [...out].filter(distinctive);
}

/** Owners (service names) a dependency value points at: exact, or a suffixed form (replica, canary). */
export function ownersNamedBy(value: string, owners: string[]): string[] {
  const names = endpointNames(value);
  const hits = owners.filter((o) => {
    const lo = o.toLowerCase();
    return names.some((n) => lo === n || containsToken(lo, n) || (lo.length >= 4 && containsToken(n, lo)));
  });
  // An exact name beats its variants only in order, not by exclusion: replicas are scanned too.
  return hits.sort((a, b) => Number(names.includes(b.toLowerCase())) - Number(names.includes(a.toLowerCase())) || a.localeCompare(b));
}

interface Candidate {
  matcher: string;
  relation: Relation;
  why: string;
  /** 1 for an exact name, less for a suffixed or partial one. */
  weight?: number;
  /**
   * The name the group goes by when its series are found by where they come from (instance,
   * pod) rather than by an owner label: an exporter's job="mysql" is not the database's name.
   */
  ownerName?: string;
}

/** Where-from labels: a dependency without a service label of its own is found by these. */
const PLACE = WORKLOAD.filter((l) => !IDENTITY.includes(l));

const MAX_PROBES = 40;

export async function findRelated(
  prom: PromClient,
  discovery: Discovery,
  service: string,
  incidentText: string,
  start: number,
  end: number,
  /** The symptom's onset from the service's own series, when known: namespace neighbours are ordered by how much they moved around it. */
  onset: number | null = null,
): Promise<RelatedResult> {
  const candidates: Candidate[] = [];
  const focal = discovery.series;
  const focalOwners = new Set(focal.map((s) => ownerOf(s)?.value).filter(Boolean) as string[]);
  focalOwners.add(service);
  const owners = [...new Set(OWNER.flatMap((l) => discovery.labelValues.get(l) ?? []))].filter((o) => !focalOwners.has(o));
  const ownerLabelOf = (o: string) => OWNER.find((l) => (discovery.labelValues.get(l) ?? []).includes(o)) ?? 'service';

  // 1. What the service's own series say it calls.
  const depValues = new Map<string, string>();
  for (const s of focal) {
    for (const [l, v] of Object.entries(s)) if (DEPENDENCY_LABEL.test(l) && v) depValues.set(`${l}=${promString(v)}`, v);
  }
  for (const [pair, v] of depValues) {
    const names = endpointNames(v);
    const named = ownersNamedBy(v, owners);
    for (const o of named) {
      const exact = names.includes(o.toLowerCase());
      candidates.push({ matcher: `${ownerLabelOf(o)}=${promString(o)}`, relation: 'dependency', why: `the service's ${pair} names it`, weight: exact ? 1 : 0.7 });
    }
    if (named.length) continue;
    // No service label names it: look for it where series come from (instance="orders-db-0:9187").
    const name = names.find((n) => !n.includes('.')) ?? names[0];
    if (!name || name.length < 4) continue;
    for (const label of PLACE) {
      for (const pv of discovery.labelValues.get(label) ?? []) {
        if (endpointNames(pv).some((x) => x === name || containsToken(x, name))) {
          candidates.push({ matcher: `${label}=${promString(pv)}`, relation: 'dependency', why: `the service's ${pair} names its ${label}`, weight: 1, ownerName: name });
        }
      }
    }
  }
  // 2. The service under another name.
  for (const v of variantsOf(service, discovery.labelValues)) {
    candidates.push({ matcher: `${ownerLabelOf(v)}=${promString(v)}`, relation: 'variant', why: `a variant of ${service}` });
  }
  // 3. What the incident's words name.
  const text = incidentText.toLowerCase();
  for (const [label, values] of discovery.labelValues) {
    if (label === '__name__' || (WORKLOAD.includes(label) && !IDENTITY.includes(label))) continue;
    for (const v of values) {
      if (distinctive(v) && v.length >= 5 && !focalOwners.has(v) && containsToken(text, v.toLowerCase())) {
        candidates.push({ matcher: `${label}=${promString(v)}`, relation: 'named', why: 'named in the incident' });
      }
    }
  }
  // 4. Fellow users of a resource the service uses (dependency values are resources too).
  const shared = new Set<string>();
  for (const s of focal) {
    for (const [l, v] of Object.entries(s)) {
      if ((!NOT_LINKING.has(l) || DEPENDENCY_LABEL.test(l)) && distinctive(v)) shared.add(`${l}=${promString(v)}`);
    }
  }
  // Longer values first: an endpoint (server_address="orders-db.data.svc:5432") links more
  // specifically than a product name (db_system="postgresql").
  for (const m of [...shared].sort((a, b) => b.length - a.length)) candidates.push({ matcher: m, relation: 'shared', why: `shares ${m}` });
  // 5. The namespace, last.
  for (const ns of new Set(focal.flatMap((s) => NAMESPACE.map((l) => (s[l] ? `${l}=${promString(s[l])}` : ''))).filter(Boolean))) {
    candidates.push({ matcher: ns, relation: 'namespace', why: `same ${ns}` });
  }

  const focalKeys = new Set(focal.map(seriesKey));
  const taken = new Set<string>();
  const groups: Array<{ matcher: string; owner: string; relation: Relation; why: string; series: Labels[] }> = [];
  const relations = new Map<string, { relation: Relation; why: string; weight: number }>();
  // Several dependency labels may name one owner, exactly or not: it keeps its best link.
  for (const c of candidates) {
    const o = /="(.*)"$/.exec(c.matcher)?.[1];
    if (c.relation !== 'dependency' || !o) continue;
    const prev = relations.get(o);
    if (!prev || (c.weight ?? 1) > prev.weight) relations.set(o, { relation: c.relation, why: c.why, weight: c.weight ?? 1 });
  }
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
      const found = ownerOf(s);
      if (found && focalOwners.has(found.value)) continue;
      // Found by where it runs: its own service label (if any) names a different service.
      if (c.ownerName && found && found.label !== 'job' && found.value !== c.ownerName && !containsToken(found.value, c.ownerName)) continue;
      const o = c.ownerName ? { label: '', value: c.ownerName } : found;
      if (!o || focalKeys.has(seriesKey(s)) || taken.has(seriesKey(s))) continue;
      const g = byOwner.get(o.value) ?? { label: o.label, series: [] };
      g.series.push(s);
      byOwner.set(o.value, g);
    }
    // A value every service carries (a shared cluster name) links nothing in particular.
    if ((c.relation === 'shared' || c.relation === 'named') && byOwner.size > MAX_OWNERS_PER_VALUE) continue;
    let owners = [...byOwner.entries()];
    if (c.relation === 'namespace' && onset != null && owners.length > MAX_GROUPS - groups.length) {
      // More neighbours than budget: the ones that moved with the symptom, not the first by name.
      const probed = owners.slice(0, MAX_PROBES);
      const moved = await Promise.all(probed.map(([o, g]) => coMovement(prom, `${g.label}=${promString(o)}, ${c.matcher}`, onset)));
      owners = probed.map((e, i) => ({ e, m: moved[i] })).sort((a, b) => b.m - a.m).map((x) => x.e);
    }
    for (const [owner, g] of owners) {
      if (groups.length >= MAX_GROUPS || total >= MAX_SERIES) break;
      const own = `${g.label}=${promString(owner)}`;
      const matcher = !g.label || c.matcher === own ? c.matcher : `${own}, ${c.matcher}`;
      g.series.forEach((s) => taken.add(seriesKey(s)));
      total += g.series.length;
      groups.push({ matcher, owner, relation: c.relation, why: c.why, series: g.series.slice(0, MAX_SERIES) });
      if (!relations.has(owner)) relations.set(owner, { relation: c.relation, why: c.why, weight: c.weight ?? 1 });
    }
  }
  const metadata = groups.length ? await prom.metadata() : {};
  const families = groups.flatMap((g) =>
    toFamilies([{ matcher: g.matcher, series: g.series }], metadata, 'related', g.owner, relations.get(g.owner)?.relation ?? g.relation, relations.get(g.owner)?.weight ?? 1),
  );
  return { families, groups: groups.map((g) => `${g.owner} (${relations.get(g.owner)?.why ?? g.why})`), relations };
}
