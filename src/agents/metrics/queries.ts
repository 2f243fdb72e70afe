import { IDENTITY, WORKLOAD, escapeRegex, type Family } from './discover';
import { unitOf } from './units';

export { unitOf } from './units';

/**
 * Turns metric families into the PromQL a person would look at: counters as rates (plus an
 * error ratio where a status-like label exists), histograms as p99 and throughput, summaries
 * at their highest quantile, gauges as the worst instance (max).
 */

export type Kind = 'latency' | 'quantile' | 'rate' | 'ratio' | 'gauge';

export interface QuerySpec {
  /** Human name, e.g. "p99 http_request_duration_seconds". */
  name: string;
  family: string;
  kind: Kind;
  promql: string;
  /** Display unit after `scale`: ms, %, /s, bytes, s or ''. */
  unit: string;
  scale: number;
  /**
   * Counter-derived queries are 0 when their series do not exist yet (no events happened);
   * gauges are unknown when absent.
   */
  zeroWhenAbsent: boolean;
  /** Labels the query keeps apart (`max by (...)`); scan picks the most changed group. */
  groupBy?: string[];
  /** The query for one group, given its label matchers: the PromQL a person can paste. */
  narrowTo?: (matchers: string) => string;
  scope: Family['scope'];
  /** For related families: whose series these are and how they were linked to the service. */
  owner?: string;
  relation?: Family['relation'];
  linkWeight?: number;
}

const STATUS_LABEL = /^(code|status|status_code|http_status|http_code|response_code|status_class|http_status_code|grpc_code|grpc_status|outcome|result)$/i;
const ERROR_VALUE = /^(5\d\d|5xx|error|errors|failure|failed|fail|exception|server_error|internal|unavailable|deadlineexceeded|deadline_exceeded|unknown|dataloss|data_loss)$/i;
// Timestamps and constants masquerading as gauges: a change in them is never a symptom.
const SKIP_GAUGE = /(_info|start_time|_timestamp|_time_seconds|_last_.*_seconds|_created|_expiry|_epoch)$|^(process_start_time_seconds)$/;

/** Related families carry their owner so "[rabbitmq] …" is not mistaken for the service's own. */
function title(f: Family, text: string): string {
  return f.scope === 'related' && f.owner ? `[${f.owner}] ${text}` : text;
}

const NOT_GROUPING = new Set([...IDENTITY, ...WORKLOAD, 'namespace', 'version', 'goversion', 'uid', 'container_id', 'image', 'image_id', 'node']);
const MAX_GROUPS = 12;

/**
 * Labels that split a gauge into things that can fail separately (disk per node, depth per
 * queue), as opposed to replicas of one thing (pods), which churn on every deploy.
 */
export function groupLabels(f: Family): string[] {
  const labels = Object.entries(f.labels).filter(([l, vs]) => !NOT_GROUPING.has(l) && l !== 'quantile' && vs.length >= 2);
  const product = labels.reduce((n, [, vs]) => n * vs.length, 1);
  return labels.length && product <= MAX_GROUPS ? labels.map(([l]) => l) : [];
}

function sel(f: Family, sample: string, extra = ''): string {
  const matchers = [f.matcher, extra].filter(Boolean).join(', ');
  return `${sample}{${matchers}}`;
}

/** The status-like label of a counter and the regex of its error values, when it has both error and non-error values. */
export function errorLabel(f: Family): { label: string; regex: string } | null {
  for (const [label, values] of Object.entries(f.labels)) {
    if (!STATUS_LABEL.test(label)) continue;
    const errors = values.filter((v) => ERROR_VALUE.test(v));
    if (!errors.length || errors.length === values.length) continue;
    const all5xx = errors.every((v) => /^5\d\d$/.test(v));
    return { label, regex: all5xx ? '5..' : errors.map(escapeRegex).join('|') };
  }
  return null;
}

export function buildQueries(families: Family[], rateWindow: string): QuerySpec[] {
  const specs: QuerySpec[] = [];
  const W = rateWindow;
  const push = (f: Family, spec: Omit<QuerySpec, 'scope'>) =>
    specs.push({ ...spec, name: title(f, spec.name), scope: f.scope, owner: f.owner, relation: f.relation, linkWeight: f.linkWeight });
  // One error ratio per owner: a histogram's _count ratio would repeat the counter's.
  const ratioOwners = new Set<string>();
  const counters = families.filter((f) => f.type === 'counter');
  for (const f of counters) {
    const { unit, scale } = unitOf(f.name);
    // A counter of seconds (CPU time) becomes seconds per second: cores, not ms.
    const rateUnit = unit === 'ms' ? 'cores' : unit === 'bytes' ? 'bytes/s' : '/s';
    push(f, {
      name: `${f.name} rate`,
      family: f.name,
      kind: 'rate',
      promql: `sum(rate(${sel(f, f.name)}[${W}]))`,
      unit: rateUnit,
      scale: unit === 'ms' ? scale / 1000 : scale,
      zeroWhenAbsent: true,
    });
    const err = errorLabel(f);
    if (err) {
      ratioOwners.add(f.owner ?? '');
      push(f, ratioSpec(f, f.name, err, W));
      const route = routeLabel(f);
      if (route) push(f, routeRatioSpec(f, f.name, err, route, W));
    }
  }
  for (const f of families.filter((x) => x.type === 'histogram')) {
    const { unit, scale } = unitOf(f.name);
    const bucket = `${f.name}_bucket`;
    push(f, {
      name: `p99 ${f.name}`,
      family: f.name,
      kind: 'latency',
      promql: `histogram_quantile(0.99, sum by (le) (rate(${sel(f, bucket)}[${W}])))`,
      unit,
      scale,
      zeroWhenAbsent: false,
    });
    if (f.samples.includes(`${f.name}_count`)) {
      push(f, {
        name: `${f.name} throughput`,
        family: f.name,
        kind: 'rate',
        promql: `sum(rate(${sel(f, `${f.name}_count`)}[${W}]))`,
        unit: '/s',
        scale: 1,
        zeroWhenAbsent: true,
      });
      const err = errorLabel(f);
      if (err && !ratioOwners.has(f.owner ?? '')) push(f, ratioSpec(f, `${f.name}_count`, err, W));
    }
  }
  for (const f of families.filter((x) => x.type === 'summary')) {
    const qs = (f.labels.quantile ?? []).map(Number).filter(Number.isFinite).sort((a, b) => a - b);
    if (!qs.length) continue;
    const q = qs.includes(0.99) ? 0.99 : qs[qs.length - 1];
    const { unit, scale } = unitOf(f.name);
    push(f, {
      name: `p${+(q * 100).toFixed(1)} ${f.name}`,
      family: f.name,
      kind: 'quantile',
      promql: `max(${sel(f, f.name, `quantile="${(f.labels.quantile ?? []).find((v) => Number(v) === q)}"`)})`,
      unit,
      scale,
      zeroWhenAbsent: false,
    });
  }
  for (const f of families.filter((x) => x.type === 'gauge')) {
    if (SKIP_GAUGE.test(f.name)) continue;
    const { unit, scale } = unitOf(f.name);
    const groupBy = groupLabels(f);
    push(f, {
      name: f.name,
      family: f.name,
      kind: 'gauge',
      // The worst instance is what hurts; a sum would hide one saturated pod among idle ones.
      promql: groupBy.length ? `max by (${groupBy.join(', ')}) (${sel(f, f.name)})` : `max(${sel(f, f.name)})`,
      groupBy: groupBy.length ? groupBy : undefined,
      narrowTo: (m) => `max(${sel(f, f.name, m)})`,
      // A gauge in seconds (lag, age) reads better in seconds than in thousands of ms.
      unit: unit === 'ms' && scale === 1000 ? 's' : unit,
      scale: unit === 'ms' && scale === 1000 ? 1 : scale,
      zeroWhenAbsent: false,
    });
  }
  return specs;
}

const ROUTE_LABEL = /^(handler|uri|route|path|endpoint|operation|op|rpc|grpc_method)$/i;

/** A route-like label with a few values: errors confined to one endpoint are diluted in the total. */
function routeLabel(f: Family): string | null {
  const hit = Object.entries(f.labels).find(([l, vs]) => ROUTE_LABEL.test(l) && vs.length >= 2 && vs.length <= 12);
  return hit ? hit[0] : null;
}

function routeRatioSpec(f: Family, sample: string, err: { label: string; regex: string }, route: string, W: string): Omit<QuerySpec, 'scope'> {
  const errSel = sel(f, sample, `${err.label}=~${JSON.stringify(err.regex)}`);
  const all = `sum by (${route}) (rate(${sel(f, sample)}[${W}]))`;
  return {
    name: `error ratio ${f.name} (${err.label}=~"${err.regex}")`,
    family: f.name,
    kind: 'ratio',
    // Routes without any error series yet are at 0%, not missing.
    promql: `(sum by (${route}) (rate(${errSel}[${W}])) or 0 * ${all}) / ${all}`,
    unit: '%',
    scale: 100,
    zeroWhenAbsent: false,
    groupBy: [route],
    narrowTo: (m) => ratioSpec(f, sample, err, W, m).promql,
  };
}

function ratioSpec(f: Family, sample: string, err: { label: string; regex: string }, W: string, extra = ''): Omit<QuerySpec, 'scope'> {
  const errSel = sel(f, sample, [`${err.label}=~${JSON.stringify(err.regex)}`, extra].filter(Boolean).join(', '));
  return {
    name: `error ratio ${f.name} (${err.label}=~"${err.regex}")`,
    family: f.name,
    kind: 'ratio',
    // `or vector(0)`: before the first error the error series does not exist, and that means 0%.
    promql: `(sum(rate(${errSel}[${W}])) or vector(0)) / sum(rate(${sel(f, sample, extra)}[${W}]))`,
    unit: '%',
    scale: 100,
    zeroWhenAbsent: false,
  };
}
