import type { Report } from '../schemas/report';
import { hardenReport } from './harden';
import { mdLine, mdText } from './text';

/** One value from data, inert: no link, image, HTML, code span or table break can come of it. */
const t = (s: string) => mdText(s);
/** Free text of many lines (a summary, a root cause): each line inert, quoted as what the data said. */
const quote = (s: string) =>
  s
    .split('\n')
    .map((l) => l.trim())
    .filter(Boolean)
    .map((l) => `> ${mdLine(l)}`);
const para = (s: string) =>
  s
    .split('\n')
    .map((l) => mdLine(l))
    .filter(Boolean);

/** report.md: what the on-call reads first, the evidence after. Every string from data goes through mdText. */
export function renderMarkdown(report: Report): string {
  // Idempotent, and a report fetched from an older run's history may predate it.
  const r = hardenReport(report);
  const out: string[] = [];
  out.push(`# ${t(r.title)}`, '');
  out.push(`**Incident** ${t(r.incidentId)} · **service** ${t(r.service)} · **severity** ${t(r.severity)} · **status** ${r.status}`, '');
  out.push('## Root cause', '', ...para(r.rootCause), '');
  out.push('## Recommendations', '', ...r.recommendations.map((x) => `- ${t(x)}`), '');
  out.push('## Key facts', '');
  out.push(`- Onset: ${r.onset ? t(r.onset) : 'not determined'}`);
  out.push(`- Suspected change: ${r.suspectedChange ? t(r.suspectedChange) : 'none'}`);
  if (r.culprit) out.push(`- Likely culprit: ${t(r.culprit)}`);
  out.push(`- Matching past incidents: ${r.matchedIncidents.length ? r.matchedIncidents.map(t).join(', ') : 'none'}`, '');
  if (r.topErrors.length) {
    out.push('## Top errors', '', '| signature | count | first seen |', '| --- | ---: | --- |');
    for (const e of r.topErrors) out.push(`| ${t(e.signature)} | ${e.count} | ${t(e.firstSeen)} |`);
    out.push('');
  }
  if (r.timeline.length) {
    out.push('## Timeline', '', '| time | source | event |', '| --- | --- | --- |');
    for (const x of r.timeline) out.push(`| ${t(x.ts)} | ${t(x.source)} | ${t(x.event)} |`);
    out.push('');
  }
  out.push('## Specialists', '');
  for (const s of r.specialists) {
    const sb = `sandbox ${t(s.sandbox.id)} (${s.sandbox.deleted ? 'deleted' : 'NOT deleted'})`;
    out.push(`### ${s.agent} — ${s.status}, ${s.attempts} attempt(s), ${(s.durationMs / 1000).toFixed(1)} s, ${sb}`, '');
    out.push(`Task: ${t(s.task)}`, '');
    if (s.summary) out.push('Summary (from the sandbox, untrusted):', '', ...quote(s.summary), '');
    if (s.error) out.push(`Error: ${t(s.error)}`, '');
    if (s.denials.length) {
      out.push('Refused by policy:', '');
      for (const d of s.denials) out.push(`- ${t(d.host)}:${d.port}${d.binary ? ` from ${t(d.binary)}` : ''}: ${t(d.reason)}`);
      out.push('');
    }
  }
  out.push('## How this was produced', '');
  out.push(`- Brain: ${r.brain.mode}${r.brain.model ? ` (${t(r.brain.model)})` : ''}, ${r.brain.turns} turn(s)`);
  out.push(`- Sandboxes: ${t(r.sandboxDriver.kind)} driver`);
  for (const l of r.sandboxDriver.limitations) out.push(`  - limitation: ${t(l)}`);
  if (r.redactedTasks) out.push(`- PII redacted from the brain's task descriptions: ${r.redactedTasks}`);
  for (const x of r.reasons) out.push(`- Note: ${t(x)}`);
  for (const x of r.warnings) out.push(`- Warning: ${t(x)}`);
  out.push(`- Workflow: ${t(r.workflowId)}, ${t(r.startedAt)} → ${t(r.finishedAt)}`, '');
  return out.join('\n');
}
