import { parse } from 'yaml';
import { InputError } from '../errors';
import type { Incident, Sources } from '../schemas/agent';
import { LogLine, ScenarioFile } from '../schemas/scenario';
import { checkedFiles, MAX_OM_FILE_BYTES, MAX_SCENARIO_YAML_BYTES, readPrefix, resolveInside, scenarioRoot, subdir } from './files';
import { checkOmFiles } from './openmetrics';

export interface LoadedScenario {
  dir: string;
  incident: Incident;
  sources: Sources;
  /** Checked OpenMetrics files: regular, inside the scenario, bounded in size and series. */
  omFiles: string[];
}

/** Log files the log agent reads (src/agents/logs/read.ts); each must be a regular file. */
const LOG_EXTS = ['.jsonl', '.ndjson', '.json', '.log', '.gz'];
/** Runbooks are parsed inside the sandbox; here only their kind is checked. */
const RUNBOOK_EXTS = ['.md', '.markdown'];
/** The host reads only this much of each JSONL file: enough to tell a log file from garbage. */
const LOG_SAMPLE_BYTES = 1 << 20;

const issueText = (rel: string, issues: { path: PropertyKey[]; message: string }[]) => {
  const i = issues[0]!;
  return new InputError(`${rel}${i.path.length ? `: ${i.path.join('.')}` : ''}`, i.message);
};

/**
 * A JSONL file must hold log lines: the first MiB is checked, and a file none of whose lines is
 * a valid {ts, labels, line} is refused naming its first bad line. A few bad lines among good
 * ones are the log agent's to skip and report (one bad line never fails an investigation).
 */
async function checkJsonl(file: { rel: string; path: string }): Promise<void> {
  const { text, truncated } = await readPrefix(file.path, file.rel, LOG_SAMPLE_BYTES);
  const lines = text.split('\n');
  if (truncated) lines.pop(); // cut mid-line
  let firstBad: InputError | null = null;
  for (let n = 0; n < lines.length; n++) {
    const l = lines[n]!.replace(/^\uFEFF/, '').trim();
    if (!l) continue;
    let obj: unknown;
    try {
      obj = JSON.parse(l);
    } catch {
      firstBad ??= new InputError(`${file.rel}:${n + 1}`, 'not a JSON object');
      continue;
    }
    const r = LogLine.safeParse(obj);
    if (r.success) return;
    firstBad ??= issueText(`${file.rel}:${n + 1}`, r.error.issues);
  }
  if (firstBad) throw firstBad;
}

/**
 * Reads and validates a scenario directory (DESIGN.md section 5) before anything starts, so bad
 * input fails fast naming the file, and nothing is half-done. The files are untrusted: nothing
 * outside the scenario is followed, special files are refused, reads are bounded (files.ts).
 */
export async function loadScenario(dirArg: string): Promise<LoadedScenario> {
  const dir = await scenarioRoot(dirArg);
  const yamlPath = await resolveInside(dir, 'scenario.yaml');
  if (!yamlPath) throw new InputError('scenario.yaml', `missing in ${dir}`);
  const { text, truncated } = await readPrefix(yamlPath, 'scenario.yaml', MAX_SCENARIO_YAML_BYTES);
  if (truncated) throw new InputError('scenario.yaml', `larger than ${MAX_SCENARIO_YAML_BYTES} bytes`);
  let raw: unknown;
  try {
    raw = parse(text.replace(/^\uFEFF/, ''));
  } catch (e) {
    throw new InputError('scenario.yaml', `not valid YAML: ${(e as Error).message.split('\n')[0]}`);
  }
  const file = ScenarioFile.safeParse(raw);
  if (!file.success) throw issueText('scenario.yaml', file.error.issues);

  const logs = await checkedFiles(dir, 'logs', LOG_EXTS);
  for (const f of logs) if (/\.jsonl$/i.test(f.rel)) await checkJsonl(f);
  const runbooks = await checkedFiles(dir, 'runbooks', RUNBOOK_EXTS);
  const om = await checkedFiles(dir, 'metrics', ['.om'], MAX_OM_FILE_BYTES);
  await checkOmFiles(om);
  if (!logs.length && !runbooks.length && !om.length) {
    throw new InputError('--scenario', `${dir} has no metrics/*.om, logs/*.jsonl or runbooks/*.md`);
  }

  const s = file.data;
  return {
    dir,
    incident: { id: s.id, title: s.title, service: s.service, severity: s.severity, report: s.report, window: s.window, now: s.now },
    sources: {
      ...(logs.length ? { logsDir: (await subdir(dir, 'logs'))! } : {}),
      ...(runbooks.length ? { runbooksDir: (await subdir(dir, 'runbooks'))! } : {}),
    },
    omFiles: om.map((f) => f.path),
  };
}
