import { WorkflowExecutionAlreadyStartedError, type Client, type WorkflowHandle } from '@temporalio/client';
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { Config } from '../config';
import { InputError } from '../errors';
import { hardenReport } from '../report/harden';
import { renderMarkdown } from '../report/markdown';
import { visibleText } from '../report/text';
import { loadScenario } from '../scenario/load';
import { scenarioDetails, uiSummary } from '../intake/start';
import type { Incident } from '../schemas/agent';
import type { Report } from '../schemas/report';
import type { SandboxDriver } from '../sandbox/driver';
import { REPO_ROOT } from '../stack/tools';
import { startEmbeddedStack, type EmbeddedStack } from '../stack/embedded';
import { investigationId } from '../workflows/ids';
import { investigationProgress } from '../workflows/progress';
import type { investigateIncident } from '../workflows';
import { cancelInvestigation, cancelMessage, deleteLeftovers } from './cancel-run';
import { withChildSteps } from './child-progress';
import { connectClient } from './client';
import { onInterrupt, signalExitCode, type Interrupt } from './interrupt';
import { progressPrinter } from './progress';
import { validateOut } from './validate-out';

export interface InvestigateOptions {
  scenario: string;
  out?: string;
  detach?: boolean;
  /** Persist the embedded server's state here (demo: so `bulkhead dev` shows it afterwards). */
  dbFile?: string;
  wellKnownPorts?: boolean;
  quiet?: boolean;
}

export async function writeReport(outDir: string, report: Report): Promise<{ json: string; md: string }> {
  await mkdir(outDir, { recursive: true });
  const json = path.join(outDir, 'report.json');
  const md = path.join(outDir, 'report.md');
  // Idempotent: a report fetched from history (`bulkhead report`) may come from an older build.
  await writeFile(json, JSON.stringify(hardenReport(report), null, 2) + '\n');
  await writeFile(md, renderMarkdown(report));
  return { json, md };
}

export function uiLink(uiUrl: string | null, namespace: string, workflowId: string): string | null {
  return uiUrl ? `${uiUrl}/namespaces/${namespace}/workflows/${encodeURIComponent(workflowId)}` : null;
}

/** Follows an investigation to its end, printing each specialist's sandbox steps. */
export async function follow(handle: WorkflowHandle<typeof investigateIncident>, write: (l: string) => void): Promise<Report> {
  const print = progressPrinter(write);
  const result = handle.result();
  let done = false;
  void result.finally(() => (done = true)).catch(() => undefined);
  while (!done) {
    try {
      print(await withChildSteps(handle, await handle.query(investigationProgress)));
    } catch {
      // Not yet picked up by a worker, or just closed: the next poll or the result tells.
    }
    await Promise.race([result.catch(() => undefined), new Promise((r) => setTimeout(r, 400))]);
  }
  const report = await result;
  try {
    print(await handle.query(investigationProgress));
  } catch {
    // Queries on a closed workflow need a worker; the report has everything anyway.
  }
  return report;
}

/**
 * Follows the investigation to its report and writes it; on the first signal cancels it and
 * waits for its sandboxes to be deleted instead (the scenario and the live form alike).
 */
export async function followToReport(o: {
  client: Client;
  handle: WorkflowHandle<typeof investigateIncident>;
  interrupt: Interrupt;
  driver: SandboxDriver | null;
  outDir: string;
  write: (l: string) => void;
}): Promise<{ report: Report | null; exitCode: number }> {
  const { interrupt, write } = o;
  const followed = follow(o.handle, write);
  followed.catch(() => undefined);
  const report = await Promise.race([followed, interrupt.first.then(() => null)]).catch((e: unknown) => {
    if (interrupt.count) return null;
    throw e;
  });
  if (!report) {
    const outcome = await cancelInvestigation({ client: o.client, handle: o.handle, driver: o.driver, stopNow: interrupt.second });
    write(cancelMessage(outcome, !!o.driver));
    return { report: null, exitCode: signalExitCode(interrupt.signal) };
  }
  const files = await writeReport(o.outDir, report);
  write('');
  write(renderMarkdown(report));
  write(`report: ${files.json}`);
  write(`        ${files.md}`);
  return { report, exitCode: report.status === 'failed' ? 1 : 0 };
}

async function start(client: Client, config: Config, scenario: { dir: string; incident: Incident }, id: string) {
  const { incident } = scenario;
  try {
    return await client.workflow.start('investigateIncident', {
      taskQueue: config.BULKHEAD_TASK_QUEUE,
      workflowId: id,
      args: [{ scenarioDir: scenario.dir }],
      // The UI's list line and its details panel (markdown): what the incident is about.
      staticSummary: uiSummary(incident.title, incident.service, incident.severity),
      staticDetails: scenarioDetails(incident),
    });
  } catch (e) {
    if (e instanceof WorkflowExecutionAlreadyStartedError) {
      throw new InputError('--scenario', `${id} is already running: follow it with \`bulkhead watch ${id}\``);
    }
    throw e;
  }
}

/**
 * `bulkhead investigate`: against TEMPORAL_ADDRESS when set, else on an embedded stack it brings
 * up (dev server, Prometheus with the scenario's metrics, worker) and tears down after.
 */
export async function investigate(config: Config, opts: InvestigateOptions): Promise<{ report: Report | null; exitCode: number }> {
  // Every line may quote data (ids, errors, the report): nothing reaches the terminal as an escape sequence.
  const write = opts.quiet ? () => undefined : (l: string) => console.log(visibleText(l, { multiline: true }));
  const scenario = await loadScenario(opts.scenario);
  const id = investigationId(scenario.incident.id);
  if (opts.detach && !config.TEMPORAL_ADDRESS) {
    throw new InputError('--detach', 'needs a stack that outlives this command: run `bulkhead dev` and set TEMPORAL_ADDRESS');
  }
  // Checked now, not after the run: an unusable --out must not cost an investigation.
  const outDir = await validateOut(opts.out ?? path.join(REPO_ROOT, 'out', scenario.incident.id), scenario.dir);

  // Signals: the first cancels the investigation and waits for every sandbox delete before the
  // stack stops; a second stops at once, after deleting what this process created.
  const interrupt = onInterrupt({
    first: () => write('\ninterrupted: cancelling the investigation and waiting for its sandboxes to be deleted (signal again to quit now)'),
    second: () => write('second signal: deleting what is left and quitting now'),
  });
  let stack: EmbeddedStack | null = null;
  let handle: WorkflowHandle<typeof investigateIncident> | null = null;
  let close = async () => undefined as void;
  void interrupt.second.then(async () => {
    if (stack && handle) await deleteLeftovers(stack.driver, handle.workflowId).catch(() => undefined);
    // The exit hook (src/stack/proc.ts) kills the dev server and Prometheus.
    process.exit(signalExitCode(interrupt.signal));
  });
  try {
    stack = config.TEMPORAL_ADDRESS
      ? null
      : await startEmbeddedStack({ config, omFiles: scenario.omFiles, dbFile: opts.dbFile, wellKnownPorts: opts.wellKnownPorts, log: write });
    if (interrupt.count) return { report: null, exitCode: signalExitCode(interrupt.signal) };
    const address = config.TEMPORAL_ADDRESS ?? stack!.address;
    const conn = await connectClient(address, config.TEMPORAL_NAMESPACE);
    close = conn.close;
    const client = conn.client;
    if (interrupt.count) return { report: null, exitCode: signalExitCode(interrupt.signal) };
    handle = await start(client, config, scenario, id);
    write(`investigation ${id} started`);
    const link = uiLink(stack ? stack.uiUrl : process.env.BULKHEAD_UI_URL ?? null, config.TEMPORAL_NAMESPACE, id);
    if (link) write(`Temporal UI: ${link}`);
    if (opts.detach) {
      write(`detached: follow it with \`bulkhead watch ${id}\`, fetch it with \`bulkhead report ${id}\``);
      return { report: null, exitCode: 0 };
    }
    const r = await followToReport({ client, handle, interrupt, driver: stack?.driver ?? null, outDir, write });
    if (r.report && link) write(`Temporal UI: ${link}`);
    return r;
  } finally {
    await close();
    if (stack) {
      write('stopping the embedded stack');
      await stack.stop();
    }
    interrupt.dispose();
  }
}
