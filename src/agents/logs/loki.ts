import type { LogRecord, TimeRange } from './record';

/**
 * Loki `query_range` connector (GET /loki/api/v1/query_range). Loki answers
 * {"status":"success","data":{"resultType":"streams","result":[{"stream":{labels},"values":[["<ns>","<line>"],...]}]}}
 * and returns at most `limit` entries per call, so we page forward from the last timestamp seen.
 */
export type FetchLike = (url: string, init?: { signal?: AbortSignal; headers?: Record<string, string> }) => Promise<{
  ok: boolean;
  status: number;
  text(): Promise<string>;
}>;

export interface LokiOptions {
  baseUrl: string;
  fetch: FetchLike;
  pageLimit?: number;
  /** Hard cap on entries per query, so a chatty service cannot exhaust the sandbox. */
  maxEntries?: number;
  timeoutMs?: number;
  /** X-Scope-OrgID for a multi-tenant Loki. */
  tenant?: string;
}

export class LokiError extends Error {
  constructor(message: string, readonly status?: number) {
    super(message);
    this.name = 'LokiError';
  }
}

interface LokiStream {
  stream: Record<string, string>;
  values: [string, string, ...unknown[]][];
}

const msToNs = (ms: number) => BigInt(Math.floor(ms)) * 1_000_000n;

async function queryRangePage(
  opts: LokiOptions,
  query: string,
  startNs: bigint,
  endNs: bigint,
  limit: number,
): Promise<{ records: (LogRecord & { ns: bigint })[]; lastNs: bigint | null; count: number }> {
  const url = new URL('loki/api/v1/query_range', opts.baseUrl.endsWith('/') ? opts.baseUrl : `${opts.baseUrl}/`);
  url.searchParams.set('query', query);
  url.searchParams.set('start', startNs.toString());
  url.searchParams.set('end', endNs.toString());
  url.searchParams.set('limit', String(limit));
  url.searchParams.set('direction', 'forward');
  // The Authorization value comes by env from the worker (config `auth_env`), never in the input.
  const auth = process.env.BULKHEAD_LOKI_AUTHORIZATION;
  const tenant = opts.tenant ?? process.env.BULKHEAD_LOKI_TENANT;
  const headers = { ...(tenant ? { 'X-Scope-OrgID': tenant } : {}), ...(auth ? { authorization: auth } : {}) };
  const res = await opts.fetch(url.toString(), { signal: AbortSignal.timeout(opts.timeoutMs ?? 30_000), headers });
  const body = await res.text();
  if (!res.ok) throw new LokiError(`Loki query_range HTTP ${res.status}: ${body.slice(0, 300)}`, res.status);
  let parsed: { status?: string; error?: string; data?: { resultType?: string; result?: unknown } };
  try {
    parsed = JSON.parse(body);
  } catch {
    throw new LokiError('Loki query_range returned non-JSON');
  }
  if (parsed.status !== 'success') throw new LokiError(`Loki query_range status ${parsed.status}: ${parsed.error ?? ''}`);
  if (parsed.data?.resultType !== 'streams') {
    throw new LokiError(`Loki query_range returned ${parsed.data?.resultType}, expected streams (log query)`);
  }
  const records: (LogRecord & { ns: bigint })[] = [];
  let lastNs: bigint | null = null;
  let count = 0;
  for (const s of (parsed.data.result ?? []) as LokiStream[]) {
    for (const v of s.values ?? []) {
      const ns = BigInt(v[0]);
      count++;
      if (lastNs === null || ns > lastNs) lastNs = ns;
      records.push({ ns, ts: Number(ns / 1_000_000n), labels: { ...(s.stream ?? {}) }, line: String(v[1]) });
    }
  }
  return { records, lastNs, count };
}

/**
 * Every entry matching `query` in `range`, oldest first, paging until Loki runs dry or the cap.
 * Pages restart AT the last timestamp seen (entries can share a nanosecond) and drop the ones
 * already yielded at that timestamp, so nothing at a page boundary is lost or repeated.
 */
export async function* lokiQueryRange(opts: LokiOptions, query: string, range: TimeRange): AsyncGenerator<LogRecord> {
  const limit = opts.pageLimit ?? 5000;
  const max = opts.maxEntries ?? 500_000;
  const endNs = msToNs(range.endMs);
  let startNs = msToNs(range.startMs);
  let atBoundary = new Set<string>();
  let total = 0;
  for (;;) {
    const page = await queryRangePage(opts, query, startNs, endNs, limit);
    page.records.sort((a, b) => (a.ns < b.ns ? -1 : a.ns > b.ns ? 1 : 0));
    const next = new Set<string>();
    for (const r of page.records) {
      const key = `${JSON.stringify(r.labels)}\u0000${r.line}`;
      if (r.ns === startNs && atBoundary.has(key)) continue;
      if (r.ns === page.lastNs) next.add(key);
      total++;
      yield { ts: r.ts, labels: r.labels, line: r.line };
    }
    // A short page means Loki has nothing more in range.
    if (page.count < limit || page.lastNs === null || total >= max) return;
    // A full page of one nanosecond cannot be paged by time: step past it rather than loop.
    if (page.lastNs === startNs) {
      startNs = page.lastNs + 1n;
      atBoundary = new Set();
    } else {
      startNs = page.lastNs;
      atBoundary = next;
    }
    if (startNs > endNs) return;
  }
}

/** Does this selector match anything in range? (one entry, cheap). */
export async function lokiHasData(opts: LokiOptions, query: string, range: TimeRange): Promise<boolean> {
  const page = await queryRangePage(opts, query, msToNs(range.startMs), msToNs(range.endMs), 1);
  return page.count > 0;
}

const esc = (s: string) => s.replace(/\\/g, '\\\\').replace(/"/g, '\\"');

/**
 * Label names differ between shops (service, service_name, app, job...). We try the usual ones
 * with the incident's service and keep the first that has data, instead of assuming a schema.
 */
export function candidateSelectors(service: string): string[] {
  const v = esc(service);
  return [
    `{service="${v}"}`,
    `{service_name="${v}"}`,
    `{app="${v}"}`,
    `{app_kubernetes_io_name="${v}"}`,
    `{container="${v}"}`,
    `{job=~".*${v.replace(/[.*+?^${}()|[\]]/g, '\\\\$&')}.*"}`,
  ];
}

/** Change events (deploys, rollouts, config and flag changes) usually come from other streams. */
export function changeQuery(labelName: string): string {
  return `{${labelName}=~".+"} |~ "(?i)(deploy|rollout|rolled|release|configmap|config change|config update|feature.?flag|flag .*(enabled|disabled|on|off)|scaled|image)"`;
}

export function selectorLabel(selector: string): string {
  return /^\{(\w+)/.exec(selector)?.[1] ?? 'job';
}
