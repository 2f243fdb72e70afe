import type { Evidence } from '../../schemas/agent';
import type { Discovery } from './discover';
import { iso } from './format';
import type { PromClient } from './prom';
import type { Range } from './scan';

/**
 * Version-like labels (build_info{version=…}, image tags) whose value changes inside the range
 * are rollouts: the metrics' own record of a deploy, independent of any log line.
 */

const VERSION_LABEL = /^(version|app_version|service_version|image|image_tag|image_id|revision|build|build_version|git_commit|git_sha|commit|release|chart)$/i;
const MAX_FAMILIES = 4;

type ChangeEvent = Evidence['changes'][number];

export async function findRollouts(prom: PromClient, discovery: Discovery, range: Range): Promise<ChangeEvent[]> {
  const candidates: Array<{ family: string; sample: string; matcher: string; label: string }> = [];
  for (const f of discovery.families) {
    for (const [label, values] of Object.entries(f.labels)) {
      if (VERSION_LABEL.test(label) && values.length >= 2) {
        candidates.push({ family: f.name, sample: f.samples.find((s) => !s.endsWith('_bucket')) ?? f.samples[0], matcher: f.matcher, label });
      }
    }
  }
  // Prefer *_info families: that is where versions are meant to be published.
  candidates.sort((a, b) => Number(b.family.endsWith('_info')) - Number(a.family.endsWith('_info')));
  const events = new Map<string, ChangeEvent>();
  for (const c of candidates.slice(0, MAX_FAMILIES)) {
    let series;
    try {
      series = await prom.queryRange(`count by (${c.label}) (${c.sample}{${c.matcher}})`, range.start, range.end, range.step);
    } catch {
      continue;
    }
    const firstSeen = series
      .filter((s) => s.values.length)
      .map((s) => ({ value: s.metric[c.label] ?? '', t: s.values[0][0] }))
      .sort((a, b) => a.t - b.t);
    for (let i = 1; i < firstSeen.length; i++) {
      const { value, t } = firstSeen[i];
      // Present from the first point on means it predates the range: not a change we saw.
      if (t <= range.start || events.has(value)) continue;
      events.set(value, {
        ts: iso(t),
        kind: 'rollout',
        id: value,
        description: `${c.label} ${firstSeen[i - 1].value} -> ${value} first seen in ${c.family} (metrics)`,
      });
    }
  }
  return [...events.values()].sort((a, b) => a.ts.localeCompare(b.ts));
}
