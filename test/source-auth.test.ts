import { afterEach, describe, expect, it } from 'vitest';
import { LOKI_AUTH_ENV, PROMETHEUS_AUTH_ENV, sourceAuthEnv } from '../src/activities/sandbox';
import { lokiHasData } from '../src/agents/logs/loki';

describe('source credentials: by env var name in the config, by value only to that source\'s agent', () => {
  const env = { PROM_AUTH: 'Bearer p-secret', LOKI_AUTH: 'Basic l-secret' };
  const asked = { prometheusUrl: 'http://p:9090', prometheusAuthEnv: 'PROM_AUTH', lokiUrl: 'http://l:3100', lokiAuthEnv: 'LOKI_AUTH', lokiTenant: 'team-a' };

  it('the metrics agent (granted Prometheus only) gets the Prometheus header and nothing of Loki', () => {
    expect(sourceAuthEnv({ prometheusUrl: asked.prometheusUrl }, asked, env)).toEqual({ [PROMETHEUS_AUTH_ENV]: 'Bearer p-secret' });
  });
  it('the log agent (granted Loki) gets the Loki header and tenant; the runbook agent gets nothing', () => {
    expect(sourceAuthEnv({ lokiUrl: asked.lokiUrl }, asked, env)).toEqual({ [LOKI_AUTH_ENV]: 'Basic l-secret', BULKHEAD_LOKI_TENANT: 'team-a' });
    expect(sourceAuthEnv({}, asked, env)).toEqual({});
  });
  it('an unset variable sends no header rather than an empty one', () => {
    expect(sourceAuthEnv({ prometheusUrl: asked.prometheusUrl }, asked, {})).toEqual({});
  });
});

describe('Loki requests carry X-Scope-OrgID and Authorization from the agent\'s env', () => {
  afterEach(() => {
    delete process.env[LOKI_AUTH_ENV];
    delete process.env.BULKHEAD_LOKI_TENANT;
  });
  it('sends them on query_range', async () => {
    process.env[LOKI_AUTH_ENV] = 'Basic l-secret';
    process.env.BULKHEAD_LOKI_TENANT = 'team-a';
    const seen: Record<string, string>[] = [];
    const fetch = async (_url: string, init?: { headers?: Record<string, string> }) => {
      seen.push(init?.headers ?? {});
      return { ok: true, status: 200, text: async () => JSON.stringify({ status: 'success', data: { resultType: 'streams', result: [] } }) };
    };
    await lokiHasData({ baseUrl: 'http://l:3100', fetch }, '{service="x"}', { startMs: Date.parse('2026-12-01T05:00:00Z'), endMs: Date.parse('2026-12-01T05:30:00Z') });
    expect(seen[0]).toEqual({ 'X-Scope-OrgID': 'team-a', authorization: 'Basic l-secret' });
  });
});
