/**
 * The last pass over report.json before anyone reads it: every string that came from data is
 * redacted once more and its control characters made visible; fields that name things hold only
 * identifier-like values (else null, with a warning saying why); a recommendation that embeds a
 * shell command is withheld. Pure code: the workflow builds the report.
 */
import { redactText } from '../agents/redact';
import type { Report } from '../schemas/report';
import { clip, isIdentifier, visibleText } from './text';

/** Shell that would run something fetched, escalate or destroy: never handed to a reader as advice. */
const SHELL_COMMAND =
  /\b(?:curl|wget|fetch|nc|ncat|bash|sh|zsh|python3?|perl|ruby|node|powershell|iex|base64)\b[^\n|]{0,200}\|\s{0,4}(?:sudo\s{1,4})?(?:(?:ba|z|k|da)?sh|python3?|perl|ruby|node|iex)\b|\$\(|\/dev\/tcp\/|\bmkfifo\b|\brm\s{1,4}-[a-z]{0,4}[rf][a-z]{0,4}\s{1,4}\/(?:\s|$)/i;

export function embedsShellCommand(s: string): boolean {
  return SHELL_COMMAND.test(s);
}

export const WITHHELD_RECOMMENDATION =
  'A recommendation that quoted a shell command from the data was withheld: read the evidence and the runbook yourself before acting.';

const IP_LITERAL = /^(?:\d{1,3}(?:\.\d{1,3}){3}|\[?[0-9A-Fa-f:.]{2,45}\]?)$/;
const free = (s: string, n = 4000) => clip(visibleText(redactText(s)), n);
const multi = (s: string, n = 12_000) => clip(visibleText(redactText(s), { multiline: true }), n);

export function hardenReport(r: Report): Report {
  const warnings: string[] = [];
  const ident = (field: string, v: string | null): string | null => {
    if (v === null || isIdentifier(v)) return v;
    warnings.push(`${field} was not an identifier (${v.length} chars of free text from the data) and was left out`);
    return null;
  };
  let withheld = 0;
  const recommendations = r.recommendations.map((x) => {
    if (!embedsShellCommand(x)) return free(x, 1000);
    withheld++;
    return WITHHELD_RECOMMENDATION;
  });
  if (withheld) warnings.push(`${withheld} recommendation(s) quoting a shell command were withheld`);
  return {
    ...r,
    title: free(r.title, 300),
    service: free(r.service, 200),
    severity: free(r.severity, 64),
    onset: r.onset === null ? null : free(r.onset, 64),
    suspectedChange: ident('suspectedChange', r.suspectedChange),
    culprit: ident('culprit', r.culprit),
    matchedIncidents: r.matchedIncidents.filter((m) => ident('a matched incident id', m) !== null),
    topErrors: r.topErrors.map((t) => ({
      ...t,
      signature: free(t.signature, 300),
      firstSeen: free(t.firstSeen, 64),
      ...(t.lastSeen !== undefined ? { lastSeen: free(t.lastSeen, 64) } : {}),
    })),
    rootCause: multi(r.rootCause),
    recommendations: [...new Set(recommendations)],
    timeline: r.timeline.map((t) => ({ ts: free(t.ts, 64), source: free(t.source, 64), event: free(t.event, 600) })),
    specialists: r.specialists.map((s) => ({
      ...s,
      task: free(s.task),
      summary: multi(s.summary),
      error: s.error === null ? null : free(s.error, 2000),
      // Where the sandbox tried to connect is the finding: an address stays, a name that smuggles data does not.
      denials: s.denials.map((d) => ({
        host: IP_LITERAL.test(d.host) ? d.host : free(d.host, 256),
        port: d.port,
        binary: d.binary === null ? null : clip(visibleText(d.binary), 256),
        reason: clip(visibleText(d.reason), 500),
      })),
    })),
    brain: { ...r.brain, model: r.brain.model === null ? null : free(r.brain.model, 128) },
    sandboxDriver: { kind: free(r.sandboxDriver.kind, 64), limitations: r.sandboxDriver.limitations.map((l) => free(l, 500)) },
    reasons: r.reasons.map((x) => free(x, 1000)),
    warnings: [...r.warnings.map((x) => free(x, 1000)), ...warnings],
  };
}
