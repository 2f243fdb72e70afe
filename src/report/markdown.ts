import type { Report } from '../schemas/report';

const cell = (s: string) => s.replace(/\|/g, '\\|').replace(/\n/g, ' ');

/** report.md: what the on-call reads first, the evidence after. */
export function renderMarkdown(r: Report): string {
  const out: string[] = [];
  out.push(`# ${r.title}`, '');
  out.push(`**Incident** ${r.incidentId} · **service** ${r.service} · **severity** ${r.severity} · **status** ${r.status}`, '');
  out.push('## Root cause', '', r.rootCause, '');
  out.push('## Recommendations', '', ...r.recommendations.map((x) => `- ${x}`), '');
  out.push('## Key facts', '');
  out.push(`- Onset: ${r.onset ?? 'not determined'}`);
  out.push(`- Suspected change: ${r.suspectedChange ?? 'none'}`);
  out.push(`- Matching past incidents: ${r.matchedIncidents.length ? r.matchedIncidents.join(', ') : 'none'}`, '');
  if (r.topErrors.length) {
    out.push('## Top errors', '', '| signature | count | first seen |', '| --- | ---: | --- |');
    for (const e of r.topErrors) out.push(`| ${cell(e.signature)} | ${e.count} | ${e.firstSeen} |`);
    out.push('');
  }
  if (r.timeline.length) {
    out.push('## Timeline', '', '| time | source | event |', '| --- | --- | --- |');
    for (const t of r.timeline) out.push(`| ${t.ts} | ${t.source} | ${cell(t.event)} |`);
    out.push('');
  }
  out.push('## Specialists', '');
  for (const s of r.specialists) {
    const sb = `sandbox ${s.sandbox.id} (${s.sandbox.deleted ? 'deleted' : 'NOT deleted'})`;
    out.push(`### ${s.agent} — ${s.status}, ${s.attempts} attempt(s), ${(s.durationMs / 1000).toFixed(1)} s, ${sb}`, '');
    out.push(`> Task: ${cell(s.task)}`, '');
    if (s.summary) out.push(s.summary, '');
    if (s.error) out.push(`Error: ${s.error}`, '');
    if (s.denials.length) {
      out.push('Refused by policy:', '');
      for (const d of s.denials) out.push(`- ${d.host}:${d.port}${d.binary ? ` from ${d.binary}` : ''}: ${d.reason}`);
      out.push('');
    }
  }
  out.push('## How this was produced', '');
  out.push(`- Brain: ${r.brain.mode}${r.brain.model ? ` (${r.brain.model})` : ''}, ${r.brain.turns} turn(s)`);
  out.push(`- Sandboxes: ${r.sandboxDriver.kind} driver`);
  for (const l of r.sandboxDriver.limitations) out.push(`  - limitation: ${l}`);
  if (r.redactedTasks) out.push(`- PII redacted from the brain's task descriptions: ${r.redactedTasks}`);
  for (const x of r.reasons) out.push(`- Note: ${x}`);
  out.push(`- Workflow: ${r.workflowId}, ${r.startedAt} → ${r.finishedAt}`, '');
  return out.join('\n');
}
