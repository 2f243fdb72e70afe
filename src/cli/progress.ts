import { redactText } from '../agents/redact';
import { visibleText } from '../report/text';
import type { InvestigationProgress } from '../workflows/progress';

/** Everything here comes from the workflow, so from data: no escape sequence reaches the terminal. */
const v = (s: string) => visibleText(redactText(s)).slice(0, 500);

/** Prints only what changed since the last poll: one line per specialist step or denial. */
export function progressPrinter(write: (line: string) => void) {
  const seen = new Map<string, string>();
  let lastTurn = 0;
  let lastMode = '';
  return (p: InvestigationProgress) => {
    if (p.brain.mode && p.brain.mode !== lastMode) {
      lastMode = p.brain.mode;
      write(`brain: ${v(p.brain.mode)}${p.brain.model ? ` (${v(p.brain.model)})` : ''}`);
    }
    if (p.turn !== lastTurn) {
      lastTurn = p.turn;
      write(`turn ${p.turn}`);
    }
    for (const s of p.specialists) {
      const key = `${s.step}|${s.sandboxId}|${s.attempts}|${s.denials.length}`;
      if (seen.get(s.workflowId) === key) continue;
      const prev = seen.get(s.workflowId);
      seen.set(s.workflowId, key);
      const where = s.sandboxId ? ` in ${v(s.sandboxId)}` : '';
      const attempt = s.step === 'run' && s.attempts > 1 ? ` (attempt ${s.attempts})` : '';
      write(`  ${v(s.agent).padEnd(14)} ${v(s.step)}${where}${attempt}${s.error && s.step !== 'done' ? `: ${v(s.error)}` : ''}`);
      const before = prev ? Number(prev.split('|')[3]) : 0;
      for (const d of s.denials.slice(before)) {
        write(`  ${v(s.agent).padEnd(14)} refused ${v(d.host)}:${d.port}${d.binary ? ` (${v(d.binary)})` : ''}: ${v(d.reason)}`);
      }
    }
  };
}
