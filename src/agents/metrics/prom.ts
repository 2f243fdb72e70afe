import { proxiedFetch } from '../http';

/** A small Prometheus HTTP API client. Every query carries explicit times: the scenario's, never the wall clock. */

export type Labels = Record<string, string>;
export interface SeriesPoints {
  metric: Labels;
  /** [unix seconds, value] */
  values: Array<[number, number]>;
}
export interface InstantSample {
  metric: Labels;
  value: [number, number];
}
export interface MetricMetadata {
  type: string;
  help: string;
  unit: string;
}

export class PromError extends Error {}

export const toUnix = (t: string | number | Date): number =>
  typeof t === 'number' ? t : (t instanceof Date ? t.getTime() : Date.parse(t)) / 1000;

function num(v: string): number {
  // Prometheus encodes NaN/Inf as strings; keep them out of arithmetic.
  const n = Number(v);
  return Number.isFinite(n) ? n : NaN;
}

export class PromClient {
  constructor(
    readonly baseUrl: string,
    private readonly fetchImpl: typeof fetch = proxiedFetch,
    private readonly timeoutMs = 20_000,
  ) {}

  private async send(url: URL, init: RequestInit): Promise<Response> {
    try {
      // The worker hands a configured Authorization header in by env (config `auth_env`), never in the input.
      const auth = process.env.BULKHEAD_PROMETHEUS_AUTHORIZATION;
      const headers = { ...(init.headers as Record<string, string> | undefined), ...(auth ? { authorization: auth } : {}) };
      return await this.fetchImpl(url, { ...init, headers, signal: AbortSignal.timeout(this.timeoutMs) });
    } catch (e) {
      // undici hides the useful part (ECONNREFUSED, proxy 403) in `cause`.
      const cause = (e as { cause?: { code?: string; message?: string } }).cause;
      throw new PromError(`prometheus at ${this.baseUrl} unreachable: ${cause?.code ?? cause?.message ?? (e as Error).message}`);
    }
  }

  /** Relative to the base URL's path, so a Prometheus behind a path prefix keeps it. */
  private apiUrl(path: string): URL {
    return new URL(`api/v1/${path}`, this.baseUrl.endsWith('/') ? this.baseUrl : `${this.baseUrl}/`);
  }

  private async call<T>(path: string, params: Array<[string, string]>): Promise<T> {
    const url = this.apiUrl(path);
    // POST form: long PromQL (regex matchers) would overflow a GET URL.
    const res = await this.send(url, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams(params).toString(),
    });
    const text = await res.text();
    let body: { status?: string; data?: T; error?: string; errorType?: string };
    try {
      body = JSON.parse(text);
    } catch {
      throw new PromError(`prometheus ${path}: HTTP ${res.status}: ${text.slice(0, 200)}`);
    }
    if (body.status !== 'success') {
      throw new PromError(`prometheus ${path}: ${body.errorType ?? `HTTP ${res.status}`}: ${body.error ?? text.slice(0, 200)}`);
    }
    return body.data as T;
  }

  series(matchers: string[], start: number, end: number): Promise<Labels[]> {
    return this.call('series', [...matchers.map((m) => ['match[]', m] as [string, string]), ['start', String(start)], ['end', String(end)]]);
  }

  labelNames(start: number, end: number, matchers: string[] = []): Promise<string[]> {
    return this.call('labels', [...matchers.map((m) => ['match[]', m] as [string, string]), ['start', String(start)], ['end', String(end)]]);
  }

  async labelValues(label: string, start: number, end: number, matchers: string[] = []): Promise<string[]> {
    const url = this.apiUrl(`label/${encodeURIComponent(label)}/values`);
    for (const m of matchers) url.searchParams.append('match[]', m);
    url.searchParams.set('start', String(start));
    url.searchParams.set('end', String(end));
    const res = await this.send(url, {});
    const body = (await res.json()) as { status: string; data: string[]; error?: string };
    if (body.status !== 'success') throw new PromError(`prometheus label values ${label}: ${body.error}`);
    return body.data;
  }

  /** Only scraped targets have metadata; backfilled data has none, so callers must cope with {}. */
  async metadata(): Promise<Record<string, MetricMetadata[]>> {
    try {
      return await this.call('metadata', []);
    } catch {
      return {};
    }
  }

  async query(q: string, time: number): Promise<{ resultType: string; result: InstantSample[] | SeriesPoints[] | [number, string] }> {
    const data = await this.call<{ resultType: string; result: unknown }>('query', [['query', q], ['time', String(time)]]);
    if (data.resultType === 'vector') {
      const result = (data.result as Array<{ metric: Labels; value: [number, string] }>).map((s) => ({
        metric: s.metric,
        value: [s.value[0], num(s.value[1])] as [number, number],
      }));
      return { resultType: 'vector', result };
    }
    if (data.resultType === 'matrix') return { resultType: 'matrix', result: parseMatrix(data.result) };
    return data as { resultType: string; result: [number, string] };
  }

  async queryRange(q: string, start: number, end: number, step: number): Promise<SeriesPoints[]> {
    const data = await this.call<{ result: unknown }>('query_range', [
      ['query', q],
      ['start', String(start)],
      ['end', String(end)],
      ['step', String(step)],
    ]);
    return parseMatrix(data.result);
  }
}

function parseMatrix(result: unknown): SeriesPoints[] {
  return (result as Array<{ metric: Labels; values: Array<[number, string]> }>).map((s) => ({
    metric: s.metric,
    values: s.values.map(([t, v]) => [t, num(v)] as [number, number]).filter(([, v]) => !Number.isNaN(v)),
  }));
}
