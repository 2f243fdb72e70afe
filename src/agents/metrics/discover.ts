import type { Labels, MetricMetadata, PromClient } from './prom';

/**
 * Finds the series that belong to a service without knowing its metric names or labelling
 * conventions: exact values on the usual service-identity labels first, then workload names
 * that contain the service as a token (pod=checkout-service-7d9f-x2), then any label at all,
 * and as a last resort everything in the range.
 */

export type MetricType = 'counter' | 'gauge' | 'histogram' | 'summary';

export interface Family {
  /** Base name: histogram/summary without _bucket/_sum/_count. */
  name: string;
  type: MetricType;
  /** Label matcher (without braces) that selects the service's series of this family. */
  matcher: string;
  /** Distinct values of each label across the family's series (for status codes, versions). */
  labels: Record<string, string[]>;
  series: number;
  help?: string;
  /** Sample names present, e.g. x_bucket, x_sum, x_count. */
  samples: string[];
  /** The incident's service, or a neighbour found by namespace, shared label value or the incident text. */
  scope: 'service' | 'related';
  /** For related families, who they belong to (e.g. service="elasticsearch"). */
  owner?: string;
  /**
   * How a related family was linked to the service, strongest evidence first: the service's own
   * client-side labels name it (upstream="orders-db"), it is a suffixed variant of the service
   * (checkout-canary), the incident text names it, it shares a distinctive label value, or it
   * only lives in the same namespace.
   */
  relation?: Relation;
  /** 1 when the evidence names the owner exactly, less for a suffixed form (orders-db-replica-1 for orders-db). */
  linkWeight?: number;
}

export type Relation = 'dependency' | 'variant' | 'named' | 'shared' | 'namespace';

export interface Discovery {
  matchers: string[];
  how: string;
  families: Family[];
  seriesCount: number;
  warnings: string[];
  /** Every label's values in the range (discovery already paid for them; related.ts reuses them). */
  labelValues: Map<string, string[]>;
  /** The service's own series, for finding its neighbours. */
  series: Labels[];
}

export const IDENTITY = ['service', 'job', 'app', 'service_name', 'application', 'app_kubernetes_io_name', 'k8s_app', 'deployment', 'container'];
export const WORKLOAD = [
  ...IDENTITY,
  'pod', 'pod_name', 'container_name', 'kubernetes_pod_name', 'replicaset', 'statefulset', 'daemonset', 'instance', 'exported_job', 'exported_service',
];
const NOT_IDENTITY = new Set(['__name__', 'le', 'quantile']);
// Prometheus' own bookkeeping carries no incident signal. (_info series stay: versions live there.)
const SKIP_NAME = /^(up|scrape_.*|ALERTS.*|prometheus_.*)$|_created$/;
const MAX_SERIES = 5000;

export function escapeRegex(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
/** A PromQL string literal (double-quoted). */
export function promString(s: string): string {
  return JSON.stringify(s);
}

/** True when `value` contains `service` bounded by separators (checkout-service-7d9f ⊃ checkout-service). */
export function containsToken(value: string, service: string): boolean {
  const re = new RegExp(`(^|[-_.:/])${escapeRegex(service)}($|[-_.:/])`, 'i');
  return re.test(value);
}
function tokenMatcher(label: string, service: string): string {
  return `${label}=~${promString(`(?i)(.*[-_.:/])?${escapeRegex(service)}([-_.:/].*)?`)}`;
}

export async function discover(prom: PromClient, service: string, start: number, end: number): Promise<Discovery> {
  const warnings: string[] = [];
  const picked: Array<{ matcher: string; series: Labels[] }> = [];
  const seen = new Set<string>();
  const add = (matcher: string, series: Labels[]) => {
    const fresh = series.filter((s) => !SKIP_NAME.test(s.__name__ ?? '') && !seen.has(seriesKey(s)));
    fresh.forEach((s) => seen.add(seriesKey(s)));
    if (fresh.length) picked.push({ matcher, series: fresh });
  };
  const addMatching = async (matcher: string) => add(matcher, await prom.series([`{${matcher}}`], start, end));

  for (const label of IDENTITY) await addMatching(`${label}=${promString(service)}`);
  const names = (await prom.labelNames(start, end)).filter((l) => !NOT_IDENTITY.has(l));
  const valuesOf = new Map<string, string[]>();
  for (const label of names) valuesOf.set(label, await prom.labelValues(label, start, end));

  // Suffixed variants (checkout-service-canary, orders-db-replica-1) are services of their own,
  // not replicas of this one: related.ts scans them as neighbours, so a bad canary can be named.
  const exact = picked.length > 0;
  const variants = exact ? variantsOf(service, valuesOf) : [];
  const notVariant = variants.slice(0, 5);
  for (const label of names.filter((l) => WORKLOAD.includes(l))) {
    // Once the service is known by name, other identity values that contain it are variants.
    if (exact && IDENTITY.includes(label)) continue;
    if ((valuesOf.get(label) ?? []).some((v) => v.toLowerCase() !== service.toLowerCase() && containsToken(v, service) && !notVariant.some((x) => containsToken(v, x)))) {
      await addMatching([tokenMatcher(label, service), ...notVariant.map((x) => tokenMatcher(label, x).replace('=~', '!~'))].join(', '));
    }
  }

  if (!picked.length) {
    // Unusual labelling: any label whose value names the service.
    for (const label of names) {
      const values = valuesOf.get(label) ?? [];
      if (values.some((v) => v.toLowerCase() === service.toLowerCase())) await addMatching(`${label}=${promString(service)}`);
      else if (values.some((v) => containsToken(v, service))) await addMatching(tokenMatcher(label, service));
    }
  }
  if (!picked.length) {
    // "checkout" vs label value "checkout-service" and the like: the label names a shorter form.
    for (const label of IDENTITY) {
      for (const v of valuesOf.get(label) ?? []) {
        if (v.length >= 4 && containsToken(service, v)) await addMatching(`${label}=${promString(v)}`);
      }
    }
  }
  const matched = picked.length > 0;
  if (!matched) {
    const all = await prom.series(['{__name__=~".+"}'], start, end);
    warnings.push(`no series are labelled with service "${service}"; analysing all ${all.length} series in the range`);
    add('__name__=~".+"', all.slice(0, MAX_SERIES));
  }
  const how = matched ? picked.map((p) => p.matcher).join(' or ') : 'all series (no service label matched)';

  const metadata = await prom.metadata();
  const families = toFamilies(picked, metadata);
  const seriesCount = picked.reduce((n, p) => n + p.series.length, 0);
  if (seriesCount > MAX_SERIES) warnings.push(`service has ${seriesCount} series; only the first ${MAX_SERIES} were considered`);
  return {
    matchers: picked.map((p) => p.matcher),
    how,
    families,
    seriesCount,
    warnings,
    labelValues: valuesOf,
    series: picked.flatMap((p) => p.series),
  };
}

/** Identity label values that are the service with a suffix or prefix: canaries, replicas, versions. */
export function variantsOf(service: string, valuesOf: Map<string, string[]>): string[] {
  const out = new Set<string>();
  for (const label of IDENTITY) {
    for (const v of valuesOf.get(label) ?? []) {
      if (v.toLowerCase() !== service.toLowerCase() && containsToken(v, service)) out.add(v);
    }
  }
  return [...out].sort();
}

/** One series' identity: its labels in name order. */
export function seriesKey(s: Labels): string {
  return JSON.stringify(Object.entries(s).sort(([a], [b]) => (a < b ? -1 : 1)));
}

/** Groups sample names into metric families and types them (metadata when scraped, naming conventions otherwise). */
export function toFamilies(
  picked: Array<{ matcher: string; series: Labels[] }>,
  metadata: Record<string, MetricMetadata[]>,
  scope: Family['scope'] = 'service',
  owner?: string,
  relation?: Relation,
  linkWeight?: number,
): Family[] {
  const byName = new Map<string, { matcher: string; series: Labels[] }>();
  for (const p of picked) {
    for (const s of p.series) {
      const n = s.__name__;
      if (!n) continue;
      const entry = byName.get(n) ?? { matcher: p.matcher, series: [] };
      entry.series.push(s);
      byName.set(n, entry);
    }
  }
  const histBases = new Set<string>();
  const summaryBases = new Set<string>();
  for (const [n, e] of byName) {
    if (n.endsWith('_bucket') && e.series.some((s) => 'le' in s)) histBases.add(n.slice(0, -'_bucket'.length));
    if (e.series.some((s) => 'quantile' in s)) summaryBases.add(n);
  }
  const families = new Map<string, Family>();
  const familyOf = (n: string): { base: string; type: MetricType } => {
    for (const suffix of ['_bucket', '_sum', '_count']) {
      if (n.endsWith(suffix) && histBases.has(n.slice(0, -suffix.length))) return { base: n.slice(0, -suffix.length), type: 'histogram' };
    }
    if (summaryBases.has(n)) return { base: n, type: 'summary' };
    for (const suffix of ['_sum', '_count']) {
      if (n.endsWith(suffix) && summaryBases.has(n.slice(0, -suffix.length))) return { base: n.slice(0, -suffix.length), type: 'summary' };
    }
    const meta = metadata[n]?.[0]?.type;
    if (meta === 'counter' || meta === 'gauge') return { base: n, type: meta };
    // `_total` is a counter by convention; a lone `_count` or `_sum` without its sibling is
    // usually a gauge (postgres_exporter's pg_stat_activity_count counts current sessions).
    if (/_total$/.test(n)) return { base: n, type: 'counter' };
    const sibling = n.endsWith('_count') ? `${n.slice(0, -'_count'.length)}_sum` : n.endsWith('_sum') ? `${n.slice(0, -'_sum'.length)}_count` : null;
    if (sibling && byName.has(sibling)) return { base: n, type: 'counter' };
    return { base: n, type: 'gauge' };
  };
  for (const [n, e] of byName) {
    const { base, type } = familyOf(n);
    const f = families.get(base) ?? {
      name: base,
      type,
      matcher: e.matcher,
      labels: {},
      series: 0,
      help: metadata[base]?.[0]?.help || metadata[n]?.[0]?.help || undefined,
      samples: [],
      scope,
      owner,
      relation,
      linkWeight,
    };
    f.samples.push(n);
    if (!n.endsWith('_bucket') && !n.endsWith('_sum')) f.series += e.series.length;
    for (const s of e.series) {
      for (const [l, v] of Object.entries(s)) {
        if (l === '__name__' || l === 'le') continue;
        const vals = (f.labels[l] ??= []);
        if (!vals.includes(v)) vals.push(v);
      }
    }
    families.set(base, f);
  }
  return [...families.values()].sort((a, b) => a.name.localeCompare(b.name));
}
