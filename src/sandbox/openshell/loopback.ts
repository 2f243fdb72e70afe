import { isIP } from 'node:net';
import type { Config } from '../../config';
import { ConfigError } from '../../config';

/**
 * Destinations OpenShell's sandbox proxy refuses whatever the policy says: loopback, link-local
 * and unspecified addresses, and the names `localhost`/`localhost.` (NVIDIA/OpenShell v0.0.111,
 * crates/openshell-sandbox/src/mechanistic_mapper.rs is_always_blocked_destination and
 * is_always_blocked_ip). A worker-side endpoint a sandbox must reach needs a routable address.
 */
export function isRefusedBySandboxProxy(host: string): boolean {
  const h = host.replace(/^\[|\]$/g, '').toLowerCase();
  if (h === 'localhost' || h === 'localhost.' || h.endsWith('.localhost')) return true;
  const v = isIP(h);
  if (v === 4) {
    const [a, b] = h.split('.').map(Number) as [number, number];
    return a === 127 || a === 0 || (a === 169 && b === 254);
  }
  if (v === 6) {
    if (h === '::' || h === '::1') return true;
    if (/^fe[89ab]/.test(h)) return true;
    const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/.exec(h);
    return mapped ? isRefusedBySandboxProxy(mapped[1]!) : false;
  }
  return false;
}

function hostOf(url: string): string | null {
  try {
    return new URL(url).hostname;
  } catch {
    return null;
  }
}

/** The settings that name an endpoint a sandbox will be allowed to reach. */
const URL_SETTINGS = ['BULKHEAD_MODEL_URL', 'PROMETHEUS_URL', 'LOKI_URL', 'ANTHROPIC_BASE_URL'] as const;

/** Every setting whose endpoint a sandbox under OpenShell could never reach, with why. */
export function loopbackSettings(config: Config): { setting: string; value: string }[] {
  const out: { setting: string; value: string }[] = [];
  for (const k of URL_SETTINGS) {
    const v = config[k];
    const host = v ? hostOf(v) : null;
    if (v && host && isRefusedBySandboxProxy(host)) out.push({ setting: k, value: v });
  }
  const dispatch = config.BULKHEAD_DISPATCH_HOST;
  if (dispatch && isRefusedBySandboxProxy(dispatch)) out.push({ setting: 'BULKHEAD_DISPATCH_HOST', value: dispatch });
  return out;
}

/** Start-up check under BULKHEAD_SANDBOX=openshell: a clear error naming the setting, exit 2. */
export function assertRoutableTargets(config: Config): void {
  const bad = loopbackSettings(config)[0];
  if (!bad) return;
  throw new ConfigError(
    bad.setting,
    `${bad.value} is a loopback/link-local address, which OpenShell's sandbox proxy always refuses: give a routable address or Service name the sandboxes can reach`,
  );
}
