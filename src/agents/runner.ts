/**
 * The sandbox entry point, bundled into one .mjs: reads one AgentInput JSON on stdin, gathers
 * the agent's evidence, has it summarized, and prints exactly one AgentResult JSON on stdout.
 * Progress goes to stderr. Everything printed passes through the sandbox-exit pass
 * (sanitizeAgentResult: redaction, visible control characters, identifier-only names, masked
 * change descriptions) whatever the agents already did: a bug in one gatherer must not become a leak.
 */
import { AgentInput, AgentResult, type AgentName } from '../schemas/agent';
import { summarize } from './model/summarize';
import { redactText } from './redact';
import { sanitizeAgentResult } from './sanitize';
import { visibleText } from '../report/text';
import type { Gather } from './types';

/** Loaded on demand: one agent's code (and its npm dependencies) need not be evaluated for another. */
const GATHERERS: Record<AgentName, () => Promise<Gather>> = {
  metrics_agent: async () => (await import('./metrics/index')).gatherMetrics,
  log_agent: async () => (await import('./logs/index')).gatherLogs,
  runbook_agent: async () => (await import('./runbooks/index')).gatherRunbooks,
};

const log = (msg: string) => process.stderr.write(`[agent] ${visibleText(redactText(msg))}\n`);

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of process.stdin) chunks.push(c as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

function fail(message: string, code: number): void {
  process.exitCode = code;
  process.stderr.write(`${JSON.stringify({ error: redactText(message) })}\n`, () => process.exit(code));
}

export async function main(argv: string[]): Promise<void> {
  if (argv.includes('--self-check')) {
    process.stdout.write(`${JSON.stringify({ ok: true, node: process.version })}\n`);
    return;
  }
  const raw = await readStdin();
  let json: unknown;
  try {
    json = JSON.parse(raw);
  } catch (e) {
    return fail(`stdin is not JSON: ${(e as Error).message}`, 2);
  }
  const parsed = AgentInput.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    return fail(`invalid AgentInput at ${issue.path.join('.') || '(root)'}: ${issue.message}`, 2);
  }
  const input = parsed.data;
  log(`${input.agent} starting`);
  const gather = await GATHERERS[input.agent]();
  const gathered = await gather(input, log);
  log(`evidence gathered; summarizing ${input.model ? `with ${input.model.name}` : 'without a model'}`);
  const s = await summarize(input, gathered, log);
  const result = AgentResult.parse({
    agent: input.agent,
    summary: s.summary,
    summarizedBy: s.summarizedBy,
    model: s.model,
    evidence: gathered.evidence,
    warnings: [...gathered.warnings, ...s.warnings],
  });
  await new Promise<void>((done) => process.stdout.write(`${JSON.stringify(sanitizeAgentResult(result))}\n`, () => done()));
}

main(process.argv.slice(2)).then(
  // Pooled sockets (model, Prometheus, Loki) would keep the process alive after the answer.
  () => {
    if (process.exitCode === undefined) process.exit(0);
  },
  (e: unknown) => fail(`agent failed: ${(e as Error)?.stack ?? String(e)}`, 1),
);
