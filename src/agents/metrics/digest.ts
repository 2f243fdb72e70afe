import type { Evidence } from '../../schemas/agent';
import type { Culprit } from './culprit';
import type { Discovery } from './discover';
import { hhmm, iso, withUnit } from './format';
import type { Finding, Range } from './scan';
import type { Symptom } from './symptom';

/** The compact text the model reads and the no-model summary is made of. */

export interface DigestInput {
  service: string;
  discovery: Discovery;
  range: Range;
  rateWindow: string;
  ranked: Finding[];
  unchanged: Finding[];
  limits: Map<Finding, number>;
  onset: number | null;
  rollouts: Evidence['changes'];
  notes: string[];
  symptom?: Symptom;
  culprit?: Culprit | null;
}

const TOP = 8;

export function describeChange(f: Finding, limit?: number): string {
  const c = f.change;
  const b = c.before == null ? null : c.before * f.scale;
  const a = c.after == null ? null : c.after * f.scale;
  const ratio = b && a != null && Math.abs(b) > 1e-12 ? ` (x${Number((a / b).toPrecision(3))})` : '';
  const ceiling = limit != null ? ` of ${withUnit(limit * f.scale, f.unit)} max` : '';
  return `${withUnit(b, f.unit)} -> ${withUnit(a, f.unit)}${ceiling}${ratio}`;
}

function culpritLine(c: Culprit, limits: Map<Finding, number>): string {
  if (!c.finding) return `Likely culprit: ${c.service} itself (${c.why}).`;
  const f = c.finding;
  const when = c.leadSeconds >= 60 ? `${Math.round(c.leadSeconds / 60)} min before the symptom` : 'with the symptom';
  const driver = c.driver ? ` Its load came from ${c.driver.service}: ${c.driver.finding.spec.name} ${describeChange(c.driver.finding)} from ${iso(c.driver.finding.change.onset!)}.` : '';
  const also = c.also.length ? ` Also at ${c.service}: ${c.also.map((x) => `${x.spec.name} ${describeChange(x, limits.get(x))} from ${iso(x.change.onset!)}`).join('; ')}.` : '';
  return `Likely culprit: ${c.service} (${c.why}): ${f.spec.name} ${describeChange(f, limits.get(f))} from ${iso(f.change.onset!)}, ${when}.${also}${driver}`;
}

export function buildDigest(d: DigestInput): string {
  const { range } = d;
  const lines: string[] = [];
  lines.push(
    `Prometheus metrics for service "${d.service}": ${d.discovery.seriesCount} series in ${d.discovery.families.length} families (matched by ${d.discovery.how}).`,
  );
  const baselineNote =
    range.baselineEnd - range.start >= 6 * range.step
      ? `baseline ${hhmm(range.start)}-${hhmm(range.baselineEnd)}Z`
      : "baseline = what precedes each series' own change";
  lines.push(`Compared ${baselineNote} with ${hhmm(range.baselineEnd)}-${hhmm(range.end)}Z (${iso(range.end).slice(0, 10)}), step ${range.step}s, rates over ${d.rateWindow}; all queries evaluated at the incident's times.`);
  // Onset and culprit come before the notes: the no-model summary is cut at a few thousand characters.
  if (d.onset != null) {
    const by = d.symptom?.findings.slice(0, 2).map((f) => f.spec.name).join(', ');
    lines.push(`Onset: ${iso(d.onset)}: when the reported symptom (${d.symptom?.kinds.join('/') ?? 'any'}) began${by ? `, in ${by}` : ''}.`);
  } else {
    lines.push(`Onset: none. The metrics of "${d.service}" look healthy in this window: no series of the service left its baseline for long enough to call it a change.`);
  }
  if (d.culprit) lines.push(culpritLine(d.culprit, d.limits));
  for (const n of d.notes) lines.push(`Note: ${n}`);
  for (const r of d.rollouts) lines.push(`Rollout seen in metrics at ${r.ts}: ${r.description}.`);
  if (d.ranked.length) {
    lines.push('Changed series, most changed first:');
    d.ranked.slice(0, TOP).forEach((f, i) => {
      const c = f.change;
      const peak = c.peak != null && c.after != null && Math.abs(c.peak - c.after) > 0.05 * Math.abs(c.after) ? `; peak ${withUnit(c.peak * f.scale, f.unit)}` : '';
      lines.push(`${i + 1}. ${f.spec.name}: ${describeChange(f, d.limits.get(f))} from ${iso(c.onset!)}${peak}`);
      lines.push(`   PromQL: ${f.spec.promql}`);
    });
    if (d.ranked.length > TOP) lines.push(`(+${d.ranked.length - TOP} smaller changes)`);
  } else {
    lines.push('No series changed persistently between baseline and incident window.');
  }
  if (d.unchanged.length) {
    const names = d.unchanged.map((f) => `${f.spec.name} ~${withUnit(f.change.before == null ? null : f.change.before * f.scale, f.unit)}`);
    lines.push(`Unchanged: ${names.slice(0, 12).join('; ')}${names.length > 12 ? `; +${names.length - 12} more` : ''}.`);
  }
  return lines.join('\n');
}
