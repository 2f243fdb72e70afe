import type { Report } from '../schemas/report';
import type { InvestigationProgress } from './progress';

// Pure helpers for the Temporal UI's "current details" (markdown the UI renders). Workflow-safe.

/**
 * The UI renders markdown and drops what looks like HTML: `<id>` placeholders in error signatures
 * would vanish, and it shows entities (`&lt;`) as typed. A CommonMark backslash escape keeps them.
 */
export const mdText = (s: string) => s.replace(/([\\<>])/g, '\\$1');
const cell = (s: string) => mdText(s.slice(0, 160)).replace(/\|/g, '\\|').replace(/\n/g, ' ');

/** While it runs: the brain's turn and each specialist's sandbox step. */
export function runningDetails(p: InvestigationProgress, notConfigured: readonly string[]): string {
  const lines = [`**Running**: brain turn ${p.turn}${p.brain.mode ? ` (${p.brain.mode}${p.brain.model ? `, ${p.brain.model}` : ''})` : ''}`];
  if (p.specialists.length) {
    lines.push('', '| specialist | step | sandbox | attempts | task |', '| --- | --- | --- | --- | --- |');
    for (const s of p.specialists) {
      lines.push(`| ${s.workflowId.split('/').pop()} | ${s.step}${s.error ? ` (${cell(s.error)})` : ''} | ${s.sandboxId ?? ''} | ${s.attempts} | ${cell(s.task)} |`);
    }
  }
  if (notConfigured.length) lines.push('', `Not configured: ${notConfigured.join(', ')}`);
  return lines.join('\n');
}

/** Once it is done: the report's headline. The full report is the workflow result. */
export function finishedDetails(r: Report): string {
  const lines = [`**${r.status}**: ${mdText(r.rootCause)}`];
  if (r.recommendations[0]) lines.push('', `**Do first:** ${mdText(r.recommendations[0])}`);
  const facts = [
    r.onset ? `onset ${r.onset}` : null,
    r.suspectedChange ? `suspected change \`${r.suspectedChange}\`` : null,
    r.culprit ? `culprit ${r.culprit}` : null,
    r.matchedIncidents.length ? `matches ${r.matchedIncidents.slice(0, 3).join(', ')}` : null,
  ].filter(Boolean);
  if (facts.length) lines.push('', facts.join(' · '));
  if (r.topErrors.length) {
    lines.push('', '| top error | count | first seen |', '| --- | --- | --- |');
    for (const e of r.topErrors.slice(0, 5)) lines.push(`| ${cell(e.signature)} | ${e.count} | ${e.firstSeen} |`);
  }
  if (r.reasons.length) lines.push('', `Partial because: ${r.reasons.map(cell).join('; ')}`);
  if (r.warnings.length) lines.push('', `Warnings: ${r.warnings.map(cell).join('; ')}`);
  return lines.join('\n');
}
