import type { InvestigationProgress } from '../workflows/progress';

/** Prints only what changed since the last poll: one line per specialist step or denial. */
export function progressPrinter(write: (line: string) => void) {
  const seen = new Map<string, string>();
  let lastTurn = 0;
  let lastMode = '';
  return (p: InvestigationProgress) => {
    if (p.brain.mode && p.brain.mode !== lastMode) {
      lastMode = p.brain.mode;
      write(`brain: ${p.brain.mode}${p.brain.model ? ` (${p.brain.model})` : ''}`);
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
      const where = s.sandboxId ? ` in ${s.sandboxId}` : '';
      const attempt = s.step === 'run' && s.attempts > 1 ? ` (attempt ${s.attempts})` : '';
      write(`  ${s.agent.padEnd(14)} ${s.step}${where}${attempt}${s.error && s.step !== 'done' ? `: ${s.error}` : ''}`);
      const before = prev ? Number(prev.split('|')[3]) : 0;
      for (const d of s.denials.slice(before)) {
        write(`  ${s.agent.padEnd(14)} refused ${d.host}:${d.port}${d.binary ? ` (${d.binary})` : ''}: ${d.reason}`);
      }
    }
  };
}
