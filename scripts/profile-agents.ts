/**
 * Times each specialist's evidence gathering on every scenario, in process and as the bundled
 * sandbox runner (node start-up and bundle load included), and optionally snapshots what they
 * produced so an optimisation can be checked to change nothing.
 *
 *   npx tsx scripts/profile-agents.ts [--runs N] [--metrics] [--snapshot DIR] [--only log_agent,...]
 *
 * --metrics backfills and starts a Prometheus per scenario (slow); without it metrics_agent is
 * skipped. --snapshot writes DIR/<scenario>.<agent>.json (evidence, digest, warnings, tool
 * outputs) and DIR/<scenario>.<agent>.runner.json (the runner's stdout) for byte comparison.
 */
import { spawn } from 'node:child_process';
import { mkdirSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { buildAgentBundle } from '../src/agents/bundle';
import { gatherLogs } from '../src/agents/logs/index';
import { gatherMetrics } from '../src/agents/metrics/index';
import { gatherRunbooks } from '../src/agents/runbooks/index';
import type { Gather, Gathered } from '../src/agents/types';
import { benchTasks } from '../src/bench/tasks';
import type { AgentInput, AgentName } from '../src/schemas/agent';
import { loadScenario } from '../src/scenario/load';
import { startPrometheus, type PrometheusServer } from '../src/stack/prometheus';

const { values: args } = parseArgs({
  options: {
    runs: { type: 'string', default: '5' },
    metrics: { type: 'boolean', default: false },
    snapshot: { type: 'string' },
    only: { type: 'string' },
  },
});
const RUNS = Math.max(1, Number(args.runs));
const only = args.only ? new Set(args.only.split(',')) : null;
const root = resolve(import.meta.dirname, '..', 'scenarios');
const GATHER: Record<AgentName, Gather> = { metrics_agent: gatherMetrics, log_agent: gatherLogs, runbook_agent: gatherRunbooks };
const quiet = () => {};

const p50 = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor((s.length - 1) / 2)]!;
};

/** Everything a gather hands on: evidence, digest, warnings, and what its tools answer. */
async function snapshotOf(g: Gathered): Promise<string> {
  const tools: Record<string, string> = {};
  for (const t of g.tools) {
    if (t.name === 'search_logs') {
      tools['search_logs:error'] = await t.run({ contains: 'error' });
      tools['search_logs:deploy'] = await t.run({ contains: 'deploy', min_level: 'info' });
    } else if (t.name === 'signature_minutes') tools[t.name] = await t.run({ rank: 1 });
    else if (t.name === 'search_runbooks') tools[t.name] = await t.run({ query: 'connection pool exhausted' });
  }
  return `${JSON.stringify({ evidence: g.evidence, digest: g.digest, warnings: g.warnings, tools }, null, 2)}\n`;
}

function runBundle(bundle: string, input: AgentInput): Promise<{ ms: number; stdout: string }> {
  return new Promise((done, fail) => {
    const t = performance.now();
    // A clean environment, as in the sandbox: no proxy, no model.
    const child = spawn(process.execPath, [bundle], { env: { PATH: process.env.PATH }, stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    child.on('error', fail);
    child.on('close', (code) => (code === 0 ? done({ ms: performance.now() - t, stdout }) : fail(new Error(`runner exit ${code}: ${stderr}`))));
    child.stdin.end(JSON.stringify(input));
  });
}

async function main(): Promise<void> {
  const bundle = await buildAgentBundle();
  console.log(`bundle ${bundle} (${(statSync(bundle).size / 1024).toFixed(0)} KiB)`);
  if (args.snapshot) mkdirSync(args.snapshot, { recursive: true });
  const rows: string[] = [];
  for (const dir of readdirSync(root).filter((d) => statSync(join(root, d)).isDirectory()).sort()) {
    const sc = await loadScenario(join(root, dir));
    let prom: PrometheusServer | null = null;
    for (const { agent, task } of benchTasks(sc.incident)) {
      if (only && !only.has(agent)) continue;
      if (agent === 'metrics_agent' && !args.metrics) continue;
      if (agent === 'metrics_agent') prom = await startPrometheus({ omFiles: sc.omFiles });
      const sources = { ...sc.sources, ...(prom ? { prometheusUrl: prom.url } : {}) };
      const input: AgentInput = { agent, task, incident: sc.incident, sources, model: null };
      try {
        const gatherMs: number[] = [];
        let last: Gathered | null = null;
        for (let i = 0; i < RUNS; i++) {
          const t = performance.now();
          last = await GATHER[agent](input, quiet);
          gatherMs.push(performance.now() - t);
        }
        const runnerMs: number[] = [];
        let stdout = '';
        for (let i = 0; i < RUNS; i++) {
          const r = await runBundle(bundle, input);
          runnerMs.push(r.ms);
          stdout = r.stdout;
        }
        if (args.snapshot) {
          writeFileSync(join(args.snapshot, `${dir}.${agent}.json`), await snapshotOf(last!));
          writeFileSync(join(args.snapshot, `${dir}.${agent}.runner.json`), stdout);
        }
        const row = `${dir.padEnd(22)} ${agent.padEnd(14)} gather p50 ${p50(gatherMs).toFixed(0).padStart(5)} ms   runner p50 ${p50(runnerMs).toFixed(0).padStart(5)} ms`;
        console.log(row);
        rows.push(row);
      } finally {
        if (prom) await prom.stop();
        prom = null;
      }
    }
  }
  // Node's bare start-up on this machine, for scale.
  const empty = join(tmpdir(), 'bulkhead-profile-empty.mjs');
  writeFileSync(empty, '');
  const bare: number[] = [];
  for (let i = 0; i < RUNS; i++) {
    const t = performance.now();
    await new Promise((d) => spawn(process.execPath, [empty]).on('close', d));
    bare.push(performance.now() - t);
  }
  console.log(`node start-up (empty script) p50 ${p50(bare).toFixed(0)} ms, runs=${RUNS}`);
}

main().then(
  () => process.exit(0),
  (e) => {
    console.error(e);
    process.exit(1);
  },
);
