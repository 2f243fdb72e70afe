import type { Denial } from '../driver';
import { hostPort } from '../policy';

const DENIED = /\bDENIED\s+(?:(\S+)\(\d+\)\s+->\s+)?(\S+)(?:\s+(\S+))?/;
const REASON = /[[\s]reason:([^\]]*)\]/;

function hostPortOf(target: string): { host: string; port: number } | null {
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(target)) {
    try {
      return hostPort(target);
    } catch {
      return null;
    }
  }
  const m = /^(.*):(\d+)(?:\/\w+)?$/.exec(target);
  return m ? { host: m[1]!.replace(/^\[|\]$/g, ''), port: Number(m[2]) } : null;
}

/**
 * OCSF shorthand, as OpenShell logs it:
 *   NET:OPEN [MED] DENIED /sandbox/.venv/bin/python3(47) -> vllm-api:443 [policy:- engine:opa] [reason:...]
 *   HTTP:PUT [MED] DENIED curl(68) -> PUT http://api.github.com:443/x [policy:p engine:l7] [reason:...]
 * Identical denials collapse into one.
 */
export function parseDenials(text: string): Denial[] {
  const out = new Map<string, Denial>();
  for (const line of text.split('\n')) {
    const m = DENIED.exec(line);
    if (!m) continue;
    const isMethod = /^[A-Z]+$/.test(m[2]!) && m[3] !== undefined;
    const hp = hostPortOf(isMethod ? m[3]! : m[2]!);
    if (!hp) continue;
    const d: Denial = { ...hp, binary: m[1] ?? null, reason: REASON.exec(line)?.[1]?.trim() || 'denied by policy' };
    out.set(JSON.stringify(d), d);
  }
  return [...out.values()];
}

