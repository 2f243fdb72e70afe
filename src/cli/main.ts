import path from 'node:path';
import { loadConfig, type Config } from '../config';
import { InputError } from '../errors';
import { visibleText } from '../report/text';
import { REPO_ROOT } from '../stack/tools';
import { parseFlags } from './args';

const USAGE = `bulkhead: investigate production incidents with sandboxed specialists on Temporal

  bulkhead demo                              embedded stack + the sample incident, report, UI link
  bulkhead dev [--db FILE]                   Temporal dev server (UI :8233) + Prometheus + worker, foreground
  bulkhead worker                            a worker only, for TEMPORAL_ADDRESS
  bulkhead investigate --scenario DIR [--out DIR] [--detach]
  bulkhead investigate "WHAT USERS REPORT" --service S [--since 30m | --from T --to T]
                   [--severity SEV] [--config FILE] [--out DIR] [--detach]
                                             a live incident, against the sources in bulkhead.yaml
  bulkhead investigate --alert FILE.json     from a saved Alertmanager webhook payload
  bulkhead serve [--listen HOST:PORT] [--config FILE]
                                             Alertmanager webhook intake (POST /v1/alertmanager)
  bulkhead watch ID | report ID [--out DIR] | replay ID|HISTORY.json [--id WORKFLOW_ID]
  bulkhead dispatch AGENT "TASK"             print a specialist's summary (Managed Agents bash tool)
  bulkhead on-work                           the ant poller's --on-work shim (use bin/bulkhead-on-work as the flag value)
  bulkhead agents-worker                     native Managed Agents environment worker (ANTHROPIC_ENVIRONMENT_ID/_KEY)
  bulkhead sandbox run --agent AGENT [--scenario DIR] -- CMD...
  bulkhead sandbox list | reap [--grace-seconds S]
  bulkhead bench [--quick]                   sandbox lifecycle, Temporal overhead, throughput -> bench/results.json

Configuration: TEMPORAL_ADDRESS, TEMPORAL_NAMESPACE, BULKHEAD_SANDBOX=local|openshell, PROMETHEUS_URL,
BULKHEAD_MODEL_URL + BULKHEAD_MODEL (+ BULKHEAD_MODEL_API_KEY), ANTHROPIC_API_KEY, ANTHROPIC_BASE_URL,
BULKHEAD_BRAIN_MODEL. See README.md.`;

const LIVE_FLAGS = {
  service: { type: 'string' },
  since: { type: 'string' },
  from: { type: 'string' },
  to: { type: 'string' },
  severity: { type: 'string' },
  config: { type: 'string' },
  alert: { type: 'string' },
} as const;

type Handler = (config: Config, argv: string[]) => Promise<number>;

function flags<T extends Record<string, { type: 'string' | 'boolean' }>>(argv: string[], options: T) {
  return parseFlags({ args: argv, options, allowPositionals: true, strict: true });
}

const commands: Record<string, Handler> = {
  async demo(config) {
    const { investigate } = await import('./investigate');
    const r = await investigate(config, {
      scenario: path.join(REPO_ROOT, 'scenarios/checkout-outage'),
      out: path.join(REPO_ROOT, 'out/demo'),
      dbFile: path.join(REPO_ROOT, '.bulkhead/temporal.db'),
      wellKnownPorts: true,
    });
    if (r.report) console.log('\nThe investigation stays in .bulkhead/temporal.db: run `npx bulkhead dev` to browse it in the Temporal UI.');
    return r.exitCode;
  },
  async investigate(config, argv) {
    const { values, positionals } = flags(argv, {
      scenario: { type: 'string' },
      out: { type: 'string' },
      detach: { type: 'boolean' },
      ...LIVE_FLAGS,
    });
    // No --scenario: a live incident ("WHAT USERS REPORT" --service S, or --alert FILE).
    if (!values.scenario) {
      const { investigateLive } = await import('./investigate-live');
      return (await investigateLive(config, { ...values, config: values.config, report: positionals.join(' ') || undefined })).exitCode;
    }
    const live = Object.keys(LIVE_FLAGS).find((k) => values[k as keyof typeof LIVE_FLAGS] !== undefined);
    if (live || positionals.length) throw new InputError(live ? `--${live}` : 'REPORT', 'is for a live incident, not with --scenario');
    const { investigate } = await import('./investigate');
    return (await investigate(config, { scenario: values.scenario, out: values.out, detach: values.detach })).exitCode;
  },
  async serve(config, argv) {
    const { values } = flags(argv, { listen: { type: 'string' }, config: { type: 'string' } });
    const { serve } = await import('./serve');
    return serve(config, values);
  },
  async dev(config, argv) {
    const { values } = flags(argv, { db: { type: 'string' } });
    const { dev } = await import('./dev');
    return dev(config, values.db ?? path.join(REPO_ROOT, '.bulkhead/temporal.db'));
  },
  async worker(config) {
    const { workerOnly } = await import('./dev');
    return workerOnly(config);
  },
  async watch(config, argv) {
    const { positionals } = flags(argv, {});
    if (!positionals[0]) throw new InputError('ID', 'required: the investigation workflow id, e.g. incident-<id>');
    const { watch } = await import('./watch');
    return watch(config, positionals[0]);
  },
  async report(config, argv) {
    const { values, positionals } = flags(argv, { out: { type: 'string' } });
    if (!positionals[0]) throw new InputError('ID', 'required: the investigation workflow id, e.g. incident-<id>');
    const { report } = await import('./watch');
    return report(config, positionals[0], values.out);
  },
  async sandbox(config, argv) {
    const { sandboxCommand } = await import('./sandbox');
    return sandboxCommand(config, argv);
  },
  async 'on-work'(config) {
    const { onWork } = await import('./on-work');
    return onWork(config);
  },
  async 'agents-worker'(config) {
    const { agentsWorker } = await import('./agents-worker');
    return agentsWorker(config);
  },
  // Raw argv: the task is free text (it may start with "-") and is sent as given.
  async dispatch(_config, argv) {
    const { dispatch } = await import('./dispatch');
    return dispatch(argv);
  },
  async replay(config, argv) {
    const { values, positionals } = flags(argv, { id: { type: 'string' } });
    if (!positionals[0]) throw new InputError('ID|HISTORY.json', 'required: a workflow id or a history file (temporal workflow show --output json)');
    const { replay } = await import('./replay');
    return replay(config, positionals[0], values.id);
  },
  async bench(config, argv) {
    const { bench } = await import('./bench');
    return bench(config, argv);
  },
};

async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (!name || name === '--help' || name === '-h' || name === 'help') {
    console.log(USAGE);
    return name ? 0 : 2;
  }
  const handler = commands[name];
  if (!handler) throw new InputError('command', `unknown command "${name}"\n\n${USAGE}`);
  return handler(loadConfig(), rest);
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (e: unknown) => {
    if (e instanceof InputError) {
      console.error(`bulkhead: ${visibleText(e.message, { multiline: true })}`);
      process.exit(e.exitCode);
    }
    // Error text can quote data (a file name, a failure from a sandbox): shown, never interpreted.
    console.error(`bulkhead: ${visibleText(e instanceof Error ? (e.stack ?? e.message) : String(e), { multiline: true })}`);
    process.exit(1);
  },
);
