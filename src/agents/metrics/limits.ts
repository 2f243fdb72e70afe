import type { Family } from './discover';
import type { PromClient } from './prom';

/**
 * A usage gauge means more next to its ceiling: "48 active" is alarming only as "48 of 50".
 * Siblings are found by naming convention (x_active / x_max, x_used_bytes / x_limit_bytes…).
 */

// Not 'pending'/'waiting': those queue up beyond the ceiling and are not a share of it.
const USAGE = ['active', 'used', 'busy', 'in_use', 'inuse', 'current', 'usage', 'open'];
const LIMIT = ['max', 'limit', 'capacity', 'size', 'total', 'maximum', 'allowed'];

export function limitCandidates(name: string, families: Family[]): Family[] {
  const tokens = name.split('_');
  const names = new Set<string>();
  tokens.forEach((tok, i) => {
    if (!USAGE.includes(tok)) return;
    for (const l of LIMIT) {
      names.add([...tokens.slice(0, i), l, ...tokens.slice(i + 1)].join('_'));
      names.add([...tokens.slice(0, i), ...tokens.slice(i + 1), l].join('_'));
    }
  });
  for (const l of LIMIT) names.add(`${name}_${l}`);
  names.delete(name);
  const byConvention = families.filter((f) => f.type === 'gauge' && names.has(f.name));
  if (byConvention.length) return byConvention;
  // Exporters that name the two differently (mysql_global_status_threads_connected vs
  // mysql_global_variables_max_connections): a max/limit gauge about the same resource.
  const resources = new Set(tokens.map(stem).filter((t) => RESOURCE.has(t)));
  if (!resources.size) return [];
  return families.filter((f) => {
    if (f.type !== 'gauge' || f.name === name) return false;
    const words = f.name.split('_');
    return words.some((w) => LIMIT.includes(w)) && words.map(stem).some((w) => resources.has(w));
  });
}

/** Resources whose usage has a configured ceiling. */
const RESOURCE = new Set(['connect', 'thread', 'session', 'client', 'worker', 'slot', 'fd', 'file', 'descriptor', 'pool']);
function stem(w: string): string {
  return w.replace(/(ed|s)$/, '').replace(/ion$/, '');
}

export async function findLimit(prom: PromClient, name: string, families: Family[], at: number): Promise<number | null> {
  for (const f of limitCandidates(name, families)) {
    try {
      const res = await prom.query(`max(${f.name}{${f.matcher}})`, at);
      const v = (res.result as Array<{ value: [number, number] }>)[0]?.value[1];
      if (Number.isFinite(v) && v > 0) return v;
    } catch {
      // a missing ceiling only costs context
    }
  }
  return null;
}
