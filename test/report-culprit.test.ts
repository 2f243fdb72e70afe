import { describe, expect, it } from 'vitest';
import { offlineTurn } from '../src/brain/offline';
import { toolResultsMessage } from '../src/brain/results';
import { concludeFromEvidence } from '../src/report/conclude';
import { Evidence, type Incident } from '../src/schemas/agent';

/**
 * When a silent dependency is the culprit, the conclusion written from evidence (offline brain,
 * or a brain that ended without one) and the offline runbook search point at it, not at errors
 * that the logs already carried before the onset.
 */

const incident: Incident = {
  id: 'INC-4100',
  title: 'Order history page slow',
  service: 'orders-api',
  severity: 'SEV2',
  report: 'The orders page has been very slow since about 10:30 UTC.',
  window: { start: '2026-06-02T10:00:00Z', end: '2026-06-02T11:00:00Z' },
  now: '2026-06-02T11:00:00Z',
};

const background = { signature: 'promo-service lookup failed: 404', count: 412, firstSeen: '2026-06-02T10:00:04Z' };
const fresh = { signature: 'HikariPool-1 - Connection is not available, request timed out after 30000ms', count: 37, firstSeen: '2026-06-02T10:31:10Z' };

const evidence = (topErrors: Evidence['topErrors']) =>
  Evidence.parse({
    onset: '2026-06-02T10:30:00Z',
    culprit: 'orders-db',
    topErrors,
    anomalies: [
      { name: 'p99 http_server_requests_seconds', promql: 'x', onset: '2026-06-02T10:30:00Z', before: 235, after: 2412, unit: 'ms' },
      { name: '[orders-db] node_cpu_utilization', promql: 'y', onset: '2026-06-02T10:27:15Z', before: 35, after: 97, unit: '%' },
    ],
  });

describe('conclusion from evidence with a silent culprit', () => {
  it('points at the culprit and not at background errors from before the onset', () => {
    const c = concludeFromEvidence(evidence([background]));
    expect(c.rootCause).toContain('The likely culprit is orders-db: node_cpu_utilization went 35% -> 97%');
    expect(c.rootCause).toMatch(/already there before the onset/);
    expect(c.rootCause).not.toContain('Top error');
    expect(c.recommendations[0]).toMatch(/^Check orders-db first: node_cpu_utilization is at 97%/);
    expect(c.recommendations.join('\n')).not.toContain('promo-service lookup failed');
  });

  it('still sends the reader after errors that began with the incident', () => {
    const c = concludeFromEvidence(evidence([background, fresh]));
    expect(c.rootCause).toContain(`Top error: "${fresh.signature}"`);
    expect(c.recommendations[0]).toMatch(/^Check orders-db first/);
    expect(c.recommendations.some((r) => r.includes(fresh.signature))).toBe(true);
    expect(c.recommendations.join('\n')).not.toContain('promo-service');
  });

  it('keeps old behaviour without an onset or a culprit', () => {
    const c = concludeFromEvidence(Evidence.parse({ topErrors: [background] }));
    expect(c.recommendations).toEqual([`Investigate "${background.signature}" at its source.`]);
  });
});

describe('offline runbook search with a silent culprit', () => {
  it('asks about the culprit and leaves background errors out', () => {
    const t1 = offlineTurn({ incident, transcript: [], turn: 1, maxTurns: 6 });
    const metrics = JSON.stringify({ onset: '2026-06-02T10:30:00Z', culprit: 'orders-db', anomalies: [{ name: '[orders-db] node_cpu_utilization' }] });
    const logs = JSON.stringify({ onset: null, suspectedChange: null, topErrors: [background] });
    const outcomes = t1.dispatches.map((d) => ({ ok: true as const, summary: `${d.agent} ok`, evidence: d.agent === 'metrics_agent' ? metrics : logs }));
    const results = toolResultsMessage(t1.assistant, t1.dispatches, t1.invalid, outcomes);
    const t2 = offlineTurn({ incident, transcript: [t1.assistant, results], turn: 2, maxTurns: 6 });
    const task = t2.dispatches[0]!.task;
    expect(task).toContain('The likely culprit is orders-db');
    expect(task).not.toContain('promo-service lookup failed');
    expect(task).toContain('[orders-db] node_cpu_utilization');
  });
});
