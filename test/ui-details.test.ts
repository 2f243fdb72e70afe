import { describe, expect, it } from 'vitest';
import { finishedDetails, runningDetails } from '../src/workflows/details';
import { queuedProgress } from '../src/workflows/progress';
import { Report } from '../src/schemas/report';

const report = Report.parse({
  incidentId: 'x', title: 't', service: 'checkout-service', severity: 'SEV-1', status: 'partial',
  onset: '2026-03-28T14:30:00Z', suspectedChange: 'checkout-service-v2.14.3', matchedIncidents: ['INC-2847'],
  topErrors: [{ signature: '[http-nio-<id>-exec-<id>] NullPointerException | PaymentProcessor', count: 3400, firstSeen: '2026-03-28T14:31:00Z' }],
  rootCause: 'Pool <exhausted> after deploy', recommendations: ['Roll back'], timeline: [], specialists: [],
  brain: { mode: 'offline', model: null, turns: 2 }, sandboxDriver: { kind: 'local', limitations: [] },
  reasons: ['log_agent failed: timeout'], workflowId: 'incident-x', startedAt: '2026-03-28T15:00:00Z', finishedAt: '2026-03-28T15:01:00Z',
});

describe('Temporal UI current details (markdown)', () => {
  it('the finished headline keeps <placeholders> visible and table cells intact', () => {
    const md = finishedDetails(report);
    expect(md).toContain('**partial**: Pool \\<exhausted\\> after deploy');
    expect(md).toContain('**Do first:** Roll back');
    expect(md).toContain('| [http-nio-\\<id\\>-exec-\\<id\\>] NullPointerException \\| PaymentProcessor | 3400 |');
    expect(md).toContain('suspected change `checkout-service-v2.14.3`');
    expect(md).toContain('Partial because: log_agent failed: timeout');
  });
  it('while running: the turn, each specialist step, and what is not configured', () => {
    const p = { incidentId: 'x', status: 'running' as const, turn: 2, brain: { mode: 'offline', model: null }, specialists: [{ ...queuedProgress('incident-x/log_agent-1', 'log_agent', 'errors'), step: 'run' as const, sandboxId: 'bh-logs-1-0', attempts: 1 }] };
    const md = runningDetails(p, ['metrics_agent (no sources.prometheus in the config file)']);
    expect(md).toContain('brain turn 2 (offline)');
    expect(md).toContain('| log_agent-1 | run | bh-logs-1-0 | 1 | errors |');
    expect(md).toContain('Not configured: metrics_agent');
  });
});
