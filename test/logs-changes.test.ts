import { describe, expect, it } from 'vitest';
import { detectChange } from '../src/agents/logs/changes';
import { gatherFromSources } from '../src/agents/logs/gather';
import { parseJsonLine, detectLevel } from '../src/agents/logs/levels';
import { messageOf } from '../src/agents/logs/mask';
import { fileSource } from '../src/agents/logs/source';
import { generate, writeLogs } from './fixtures/logs-gen';

const ch = (line: string, labels: Record<string, string> = {}) => {
  const json = parseJsonLine(line);
  return detectChange({ ts: 1, labels, line }, detectLevel({ ts: 1, labels, line }, json), json, json ? messageOf(line, json) : line);
};

describe('changes are named by object and revision, as the events carry them', () => {
  it.each([
    // Kubernetes event exporters (kubernetes-event-exporter / eventrouter JSON), kubectl-style text, audit lines.
    ['{"kind":"ConfigMap","namespace":"kube-system","name":"coredns","resourceVersion":"812345","reason":"Updated","message":"ConfigMap updated"}', { 'app': 'kube-events' }, 'config', 'configmap/coredns rev 812345', '812345'],
    ['ConfigMap kube-system/coredns updated (resourceVersion=812345)', { app: 'kube-events' }, 'config', 'configmap/coredns rev 812345', '812345'],
    ['audit: PATCH secret payments/stripe-keys by user deploy-bot, generation 4', { source: 'audit' }, 'config', 'secret/stripe-keys rev 4', '4'],
    ['Release "checkout" has been upgraded. Happy Helming! REVISION: 7', { app: 'deploy' }, 'deploy', 'helm/checkout rev 7', '7'],
    ['helm upgrade checkout ./chart --namespace shop revision=12', { app: 'ci' }, 'deploy', 'helm/checkout rev 12', '12'],
    ['argocd: application checkout synced to revision 4f2a9c1e (Healthy)', { app: 'argocd-server' }, 'deploy', 'argocd/checkout rev 4f2a9c1e', '4f2a9c1e'],
    ['flag updated: key=notif-inline-render env=prod variant off -> on targeting 100% actor=x change=FF-3192', { app: 'flagd' }, 'feature_flag', 'notif-inline-render', 'on'],
    ['Feature flag "new-payment-flow" set to true', {}, 'feature_flag', 'new-payment-flow', 'true'],
    ['Rolling update started: image ghcr.io/acme/search:v7.1.0', {}, 'deploy', 'search:v7.1.0', undefined],
  ])('%s', (line, labels, kind, id, revision) => {
    const c = ch(line, labels);
    expect(c?.kind).toBe(kind);
    expect(c?.id).toBe(id);
    expect(c?.revision).toBe(revision);
    expect(c?.id).not.toMatch(/^(kube-system|payments|shop)$/);
  });

  it('a ConfigMap in kube-system is never named kube-system, and its scope says where it applies', () => {
    const c = ch('ConfigMap kube-system/coredns updated', { app: 'kube-events' })!;
    expect(c.id).toBe('configmap/coredns');
    expect(c.scope?.namespace).toBe('kube-system');
  });

  it.each([
    'Failed to pull image "registry.local/shop/checkout:v2.14.4": rpc error: code = NotFound desc = manifest unknown',
    'Pod/checkout-7d9f8-abcde Failed: Error: ErrImagePull',
    'Back-off pulling image "registry.local/shop/checkout:v2.14.4" ImagePullBackOff',
  ])('a failed image pull is not a deploy: %s', (line) => {
    expect(ch(line, { app: 'kube-events', kind: 'Pod' })).toBeNull();
  });
});

const BASE = Date.parse('2026-03-15T14:00:00Z');
const window = { startMs: BASE, endMs: BASE + 60 * 60_000 };
const burst = (fromMin: number) => [
  { from: fromMin * 60, to: 3600, perMinute: 60, level: 'error', make: (i: number) => `java.sql.SQLTransientConnectionException: HikariPool-1 - Connection is not available (request ${i})` },
];

describe('the suspect: timing and scope', () => {
  it('a kube-system ConfigMap just before the onset does not beat the service own deploy', async () => {
    const lines = generate({
      baseMs: BASE,
      minutes: 60,
      bursts: burst(30),
      changes: [
        { at: 22 * 60, line: 'deploy started: checkout-service-v2.14.3 service=checkout-service namespace=shop', labels: { app: 'deployer', namespace: 'ci' } },
        { at: 29 * 60, line: 'ConfigMap kube-system/cluster-autoscaler-status updated (resourceVersion=99123)', labels: { app: 'kube-events', namespace: 'kube-system' } },
      ],
    });
    const g = await gatherFromSources([fileSource(writeLogs(lines))], window, () => {}, 'checkout-service');
    expect(g.evidence.suspectedChange).toBe('checkout-service-v2.14.3');
    expect(g.evidence.changes.map((c) => c.id)).toContain('configmap/cluster-autoscaler-status rev 99123');
    expect(JSON.stringify(g.evidence.changes)).not.toMatch(/"id":"kube-system"/);
  });

  it("another service's deploy right before the onset is not blamed when the errors do not name it", async () => {
    const lines = generate({
      baseMs: BASE,
      minutes: 60,
      bursts: burst(30),
      changes: [{ at: 29 * 60, line: 'deploy started: reviews-service-v1.2.0 service=reviews-service namespace=shop', labels: { app: 'deployer' } }],
    });
    const g = await gatherFromSources([fileSource(writeLogs(lines))], window, () => {}, 'checkout-service');
    expect(g.evidence.onset).not.toBeNull();
    expect(g.evidence.suspectedChange).toBeNull();
  });

  it('a failed image pull shows up as an error signature, not as a change', async () => {
    const lines = generate({
      baseMs: BASE,
      minutes: 60,
      bursts: [
        ...burst(30),
        { from: 29 * 60, to: 3600, perMinute: 2, level: 'info', make: () => 'Failed to pull image "registry.local/shop/checkout:v2.14.4": manifest unknown' },
      ],
      changes: [],
    });
    const g = await gatherFromSources([fileSource(writeLogs(lines))], window, () => {}, 'checkout-service');
    expect(g.evidence.changes).toHaveLength(0);
    expect(g.evidence.topErrors.some((e) => e.signature.includes('Failed to pull image'))).toBe(true);
  });
});
