import { readFile } from 'node:fs/promises';
import path from 'node:path';
import type { Config } from '../config';
import { InputError } from '../errors';
import { alertInvestigation, parsePayload, PayloadError } from '../intake/alertmanager';
import { scenarioDetails, startOrJoin, uiSummary, type LiveStart } from '../intake/start';
import { loadConfigFile } from '../live/config-file';
import { compactTime, liveInput, slug, type LiveRequest } from '../live/input';
import { visibleText } from '../report/text';
import { durationMs, type ConfigFile } from '../schemas/config-file';
import { mdText } from '../workflows/details';
import type { Report } from '../schemas/report';
import { startEmbeddedStack, type EmbeddedStack } from '../stack/embedded';
import { REPO_ROOT } from '../stack/tools';
import type { investigateIncident } from '../workflows';
import { connectClient } from './client';
import { deleteLeftovers } from './cancel-run';
import { followToReport, uiLink } from './investigate';
import { onInterrupt, signalExitCode } from './interrupt';
import { validateOut } from './validate-out';

export interface LiveOptions {
  /** What users report (free text), unless --alert. */
  report?: string;
  service?: string;
  since?: string;
  from?: string;
  to?: string;
  severity?: string;
  config?: string;
  alert?: string;
  out?: string;
  detach?: boolean;
  quiet?: boolean;
  now?: Date;
}

const RFC3339 = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/i;

function time(field: string, value: string): number {
  if (!RFC3339.test(value) || Number.isNaN(Date.parse(value))) throw new InputError(field, `${value} is not an RFC 3339 time (e.g. 2026-12-01T14:00:00Z)`);
  return Date.parse(value);
}

/** The incident a person describes on the command line: window [now-since, now] or [from, to]. */
export function cliRequest(o: LiveOptions, cfg: ConfigFile, now: Date): { request: LiveRequest; details: string } {
  const report = o.report?.trim();
  if (!report) throw new InputError('REPORT', 'required: what users report, e.g. "checkout payments failing" (or --alert FILE, or --scenario DIR)');
  if (!o.service?.trim()) throw new InputError('--service', 'required: the service users see failing');
  if (o.since && (o.from || o.to)) throw new InputError('--since', 'give --since or --from/--to, not both');
  if (!!o.from !== !!o.to) throw new InputError(o.from ? '--to' : '--from', '--from and --to go together');
  let start: number;
  let end: number;
  if (o.from && o.to) {
    start = time('--from', o.from);
    end = time('--to', o.to);
    if (start >= end) throw new InputError('--from', 'must be before --to');
    if (start > now.getTime()) throw new InputError('--from', 'is in the future');
  } else {
    const since = o.since ?? cfg.intake.lookback;
    const ms = durationMs(since);
    if (!ms) throw new InputError('--since', `${since} is not a duration such as 30m, 2h or 1d`);
    end = now.getTime();
    start = end - ms;
  }
  const service = o.service.trim();
  const severity = o.severity?.trim() || 'unknown';
  const window = { start: new Date(start).toISOString(), end: new Date(end).toISOString() };
  const request: LiveRequest = {
    id: `${slug(service)}-${compactTime(now.toISOString())}`,
    title: report.split('\n')[0]!.slice(0, 100),
    service,
    severity,
    report,
    window,
    now: now.toISOString(),
  };
  const details = `${scenarioDetails({ report, service, severity, window })}\n\nStarted from the command line.`;
  return { request, details };
}

/** The same investigation from a saved Alertmanager webhook payload. */
export async function alertRequest(file: string, cfg: ConfigFile, now: Date): Promise<{ request: LiveRequest; details: string; groupKey: string } | null> {
  let raw: unknown;
  try {
    raw = JSON.parse(await readFile(file, 'utf8'));
  } catch (e) {
    throw new InputError('--alert', `${file}: ${(e as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : 'not valid JSON'}`);
  }
  try {
    const inv = alertInvestigation(parsePayload(raw), cfg, now);
    return inv && { request: inv.request, details: `**Reported**: ${mdText(inv.request.report)}\n\n${inv.details}`, groupKey: inv.groupKey };
  } catch (e) {
    if (e instanceof PayloadError) throw new InputError(`--alert: ${e.field}`, e.message.slice(e.field.length + 2));
    throw e;
  }
}

/**
 * `bulkhead investigate "WHAT USERS REPORT" --service S ...` and `--alert FILE`: a live incident
 * against the sources of the config file, on TEMPORAL_ADDRESS or an embedded stack.
 */
export async function investigateLive(config: Config, o: LiveOptions): Promise<{ report: Report | null; exitCode: number; id: string | null }> {
  // Lines quote data (alert labels, reasons, the report): no escape sequence reaches the terminal.
  const write = o.quiet ? () => undefined : (l: string) => console.log(visibleText(l, { multiline: true }));
  const now = o.now ?? new Date();
  if (o.alert && (o.report || o.service || o.since || o.from || o.to || o.severity)) {
    throw new InputError('--alert', 'the payload says what, which service and when: give no report text, --service, --since, --from, --to or --severity with it');
  }
  const { config: cfg, file } = await loadConfigFile(o.config);
  let start: LiveStart;
  if (o.alert) {
    const a = await alertRequest(o.alert, cfg, now);
    if (!a) {
      write('the payload is a resolved notification: nothing to investigate');
      return { report: null, exitCode: 0, id: null };
    }
    start = { incidentId: a.request.id, input: liveInput(cfg, a.request), summary: uiSummary(a.request.title, a.request.service, a.request.severity), details: a.details };
  } else {
    const c = cliRequest(o, cfg, now);
    start = { incidentId: c.request.id, input: liveInput(cfg, c.request), summary: uiSummary(c.request.title, c.request.service, c.request.severity), details: c.details };
  }
  if (o.detach && !config.TEMPORAL_ADDRESS) {
    throw new InputError('--detach', 'needs a stack that outlives this command: run `bulkhead dev` and set TEMPORAL_ADDRESS');
  }
  write(`config: ${file ?? '(none: no ./bulkhead.yaml)'}`);
  for (const u of start.input.unconfigured ?? []) write(`not configured: ${u.agent} (${u.reason})`);
  // Checked before anything starts: an unusable --out must not cost an investigation.
  const outDir = await validateOut(o.out ?? path.join(REPO_ROOT, 'out', start.incidentId));

  // Signals, as on the scenario path: the first cancels and waits for every sandbox delete, a
  // second stops at once after deleting what this process created.
  const interrupt = onInterrupt({
    first: () => write('\ninterrupted: cancelling the investigation and waiting for its sandboxes to be deleted (signal again to quit now)'),
    second: () => write('second signal: deleting what is left and quitting now'),
  });
  let stack: EmbeddedStack | null = null;
  let workflowId: string | null = null;
  let close = async () => undefined as void;
  void interrupt.second.then(async () => {
    if (stack && workflowId) await deleteLeftovers(stack.driver, workflowId).catch(() => undefined);
    process.exit(signalExitCode(interrupt.signal));
  });
  try {
    stack = config.TEMPORAL_ADDRESS ? null : await startEmbeddedStack({ config, omFiles: [], log: write });
    if (interrupt.count) return { report: null, exitCode: signalExitCode(interrupt.signal), id: null };
    const conn = await connectClient(config.TEMPORAL_ADDRESS ?? stack!.address, config.TEMPORAL_NAMESPACE);
    close = conn.close;
    const client = conn.client;
    const link = uiLink(stack ? stack.uiUrl : (process.env.BULKHEAD_UI_URL ?? null), config.TEMPORAL_NAMESPACE, `incident-${start.incidentId}`);
    if (link) start.input.link = link;
    const r = await startOrJoin(client, config.BULKHEAD_TASK_QUEUE, start, durationMs(cfg.intake.dedupe_for)!);
    workflowId = r.id;
    write(`investigation ${r.id} ${r.status}`);
    if (link) write(`Temporal UI: ${link}`);
    if (o.detach) {
      write(`detached: follow it with \`bulkhead watch ${r.id}\`, fetch it with \`bulkhead report ${r.id}\``);
      return { report: null, exitCode: 0, id: r.id };
    }
    const handle = client.workflow.getHandle<typeof investigateIncident>(r.id);
    const done = await followToReport({ client, handle, interrupt, driver: stack?.driver ?? null, outDir, write });
    return { ...done, id: r.id };
  } finally {
    await close();
    if (stack) {
      write('stopping the embedded stack');
      await stack.stop();
    }
    interrupt.dispose();
  }
}
