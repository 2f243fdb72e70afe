import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse, parseAllDocuments } from 'yaml';
import { parseConfigFile } from '../src/live/config-file';
import { REPO_ROOT } from '../src/stack/tools';

// The chart rendered by the real helm (v3.22.0, built into .tools/bin by scripts/setup.sh): lint,
// template with the default and the production values, and what the rendered objects must say.
// Nothing here needs a cluster; what does is listed in the README.
const HELM = path.join(REPO_ROOT, '.tools/bin/helm');
const CHART = path.join(REPO_ROOT, 'deploy/helm/bulkhead');
const PROD = path.join(CHART, 'ci/production-values.yaml');

interface K8s {
  kind: string;
  metadata: { name: string };
  spec: Record<string, any>;
  data?: Record<string, string>;
}
function render(...args: string[]): K8s[] {
  const out = execFileSync(HELM, ['template', 'rel', CHART, '--namespace', 'sre', ...args], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  return parseAllDocuments(out).map((d) => d.toJS() as K8s).filter(Boolean);
}
const byKind = (objs: K8s[], kind: string) => objs.filter((o) => o.kind === kind);
const deployment = (objs: K8s[], component: string) => byKind(objs, 'Deployment').find((d) => d.metadata.name.endsWith(`-${component}`));
const envOf = (c: { env: { name: string; value?: string; valueFrom?: unknown }[] }) => Object.fromEntries(c.env.map((e) => [e.name, e]));

describe('deploy/helm/bulkhead', () => {
  it('is installed by setup and lints clean with both value sets', () => {
    expect(existsSync(HELM), 'run scripts/setup.sh: it builds helm into .tools/bin').toBe(true);
    expect(execFileSync(HELM, ['version', '--short'], { encoding: 'utf8' })).toMatch(/^v3\.22\b/);
    for (const values of [[], ['-f', PROD]]) {
      const r = spawnSync(HELM, ['lint', '--strict', CHART, ...values], { encoding: 'utf8' });
      expect(r.status, r.stdout + r.stderr).toBe(0);
      expect(r.stdout).toContain('0 chart(s) failed');
    }
  });

  it('default values: a hardened, OpenShift-compatible worker on OpenShell, no serve', () => {
    const objs = render();
    expect(objs.map((o) => o.kind).sort()).toEqual(['ConfigMap', 'Deployment', 'NetworkPolicy', 'ServiceAccount']);
    const worker = deployment(objs, 'worker')!;
    const pod = worker.spec.template.spec;
    // Non-root with no fixed UID: OpenShift's restricted SCC assigns one.
    expect(pod.securityContext).toEqual({ runAsNonRoot: true, seccompProfile: { type: 'RuntimeDefault' } });
    expect(pod.automountServiceAccountToken).toBe(false);
    const [c] = pod.containers;
    expect(c.securityContext).toEqual({ allowPrivilegeEscalation: false, readOnlyRootFilesystem: true, capabilities: { drop: ['ALL'] } });
    expect(c.securityContext.runAsUser).toBeUndefined();
    expect(c.resources.limits).toMatchObject({ cpu: '2', memory: '2Gi' });
    expect(c.livenessProbe.exec.command.join(' ')).toContain('/tmp/bulkhead-alive');
    expect(c.args).toEqual(['worker']);
    const env = envOf(c);
    expect(env.BULKHEAD_SANDBOX!.value).toBe('openshell');
    expect(env.BULKHEAD_LIVENESS_FILE!.value).toBe('/tmp/bulkhead-alive');
    expect(env.OPENSHELL_GATEWAY_ENDPOINT!.value).toMatch(/^http:\/\//);
    // A routable dispatch address: the pod's own, never loopback.
    expect(env.BULKHEAD_DISPATCH_HOST!.valueFrom).toEqual({ fieldRef: { fieldPath: 'status.podIP' } });
    // Writable only where mounted.
    expect(c.volumeMounts.map((m: { mountPath: string }) => m.mountPath).sort()).toEqual(['/app/deploy/policies', '/tmp', '/var/lib/bulkhead']);
    // No secret configured, so no secret variable at all (and never a literal).
    expect(env.ANTHROPIC_API_KEY).toBeUndefined();
    expect(byKind(objs, 'Secret')).toEqual([]);
  });

  it('ships the agent policies as a ConfigMap equal to deploy/policies', () => {
    const cm = byKind(render(), 'ConfigMap')[0]!;
    const files = readdirSync(path.join(REPO_ROOT, 'deploy/policies')).filter((f) => f.endsWith('.yaml')).sort();
    expect(Object.keys(cm.data!).sort()).toEqual(files);
    for (const f of files) expect(cm.data![f]).toBe(readFileSync(path.join(REPO_ROOT, 'deploy/policies', f), 'utf8'));
  });

  it('production values: Temporal Cloud by TLS + API key, secrets only by reference, serve with its Service', async () => {
    const objs = render('-f', PROD);
    expect(byKind(objs, 'Secret')).toEqual([]);
    const worker = deployment(objs, 'worker')!;
    const env = envOf(worker.spec.template.spec.containers[0]);
    expect(env.TEMPORAL_ADDRESS!.value).toBe('bulkhead.a1b2c.tmprl.cloud:7233');
    expect(env.TEMPORAL_TLS!.value).toBe('true');
    expect(env.TEMPORAL_API_KEY).toEqual({ name: 'TEMPORAL_API_KEY', valueFrom: { secretKeyRef: { name: 'temporal-cloud', key: 'api-key' } } });
    expect(env.ANTHROPIC_API_KEY!.valueFrom).toEqual({ secretKeyRef: { name: 'anthropic', key: 'api-key' } });
    expect(env.BULKHEAD_MODEL_API_KEY!.valueFrom).toEqual({ secretKeyRef: { name: 'vllm', key: 'token' } });
    expect(env.OPENSHELL_GATEWAY!.value).toBe('prod-gateway');
    expect(env.BULKHEAD_STACK!.value).toBe('prod-eu1');
    expect(worker.spec.replicas).toBe(2);
    for (const e of Object.values(env)) if (/KEY|TOKEN|SECRET/.test(e.name)) expect(e.value).toBeUndefined();

    const serve = deployment(objs, 'serve')!;
    const sc = serve.spec.template.spec.containers[0];
    expect(sc.args).toEqual(['serve', '--listen', '0.0.0.0:8080']);
    expect(sc.livenessProbe.httpGet).toEqual({ path: '/healthz', port: 'http' });
    expect(envOf(sc).BULKHEAD_SERVE_TOKEN!.valueFrom).toEqual({ secretKeyRef: { name: 'bulkhead-serve', key: 'token' } });
    expect(sc.securityContext.readOnlyRootFilesystem).toBe(true);
    // The live config file: one ConfigMap, named by BULKHEAD_CONFIG and mounted in both.
    const cfg = byKind(objs, 'ConfigMap').find((c) => c.metadata.name.endsWith('-config'))!;
    expect(parse(cfg.data!['bulkhead.yaml']!)).toMatchObject({ sources: { loki: { url: 'http://loki-gateway.logging.svc:80' } }, intake: { lookback: '30m' } });
    // ...and it is a config file Bulkhead itself accepts.
    await expect(parseConfigFile(cfg.data!['bulkhead.yaml']!, 'bulkhead.yaml')).resolves.toBeTruthy();
    for (const d of [worker, serve]) {
      const c = d.spec.template.spec.containers[0];
      expect(envOf(c).BULKHEAD_CONFIG!.value).toBe('/etc/bulkhead/config/bulkhead.yaml');
      expect(c.volumeMounts).toContainEqual({ name: 'config', mountPath: '/etc/bulkhead/config', readOnly: true });
    }
    const svc = byKind(objs, 'Service')[0]!;
    expect(svc.spec.selector).toEqual(serve.spec.selector.matchLabels);
    expect(svc.spec.ports[0]).toMatchObject({ port: 80, targetPort: 'http' });
  });

  it('lets the worker reach only DNS, Temporal, the OpenShell gateway, the brain and its sources', () => {
    const objs = render('-f', PROD);
    const np = byKind(objs, 'NetworkPolicy').find((n) => n.metadata.name.endsWith('-worker'))!;
    expect(np.spec.policyTypes).toEqual(['Ingress', 'Egress']);
    const worker = deployment(objs, 'worker')!;
    expect(np.spec.podSelector.matchLabels).toEqual(worker.spec.selector.matchLabels);
    const egress = np.spec.egress as { to: object[]; ports?: { port: number }[] }[];
    expect(egress.map((e) => (e.ports ?? []).map((p) => p.port))).toEqual([[53, 53], [7233], [8080, 22], [443], [9090, 80]]);
    expect(egress[3]!.to).toEqual([{ ipBlock: { cidr: '160.79.104.0/23' } }]);
    // Only OpenShell's sandbox pods may call in (the ant-mode dispatch endpoint).
    expect(np.spec.ingress).toEqual([{ from: [{ namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'openshell' } }, podSelector: { matchLabels: { 'openshell.ai/managed-by': 'openshell' } } }] }]);
    // With no peers configured, an unlisted destination is simply not allowed.
    const dflt = byKind(render(), 'NetworkPolicy')[0]!;
    expect((dflt.spec.egress as unknown[]).length).toBe(3);
  });

  it('refuses to render without a Temporal address', () => {
    const r = spawnSync(HELM, ['template', 'rel', CHART, '--set', 'temporal.address='], { encoding: 'utf8' });
    expect(r.status).not.toBe(0);
    expect(r.stderr).toContain('temporal.address is required');
  });
});
