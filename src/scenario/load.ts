import { readdir, readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import { parse } from 'yaml';
import { InputError } from '../errors';
import type { Incident, Sources } from '../schemas/agent';
import { LogLine, RunbookFrontMatter, ScenarioFile } from '../schemas/scenario';

export interface LoadedScenario {
  dir: string;
  incident: Incident;
  sources: Sources;
  omFiles: string[];
}

const issueText = (rel: string, issues: { path: PropertyKey[]; message: string }[]) => {
  const i = issues[0]!;
  return new InputError(`${rel}${i.path.length ? `: ${i.path.join('.')}` : ''}`, i.message);
};

async function isDir(p: string): Promise<boolean> {
  return stat(p).then((s) => s.isDirectory(), () => false);
}
async function filesIn(dir: string, ext: string): Promise<string[]> {
  if (!(await isDir(dir))) return [];
  return (await readdir(dir)).filter((f) => f.endsWith(ext)).sort().map((f) => path.join(dir, f));
}

/**
 * Reads and validates a scenario directory (DESIGN.md section 5) completely before anything
 * starts, so bad input fails fast with the file, line and field, and nothing is half-done.
 */
export async function loadScenario(dirArg: string): Promise<LoadedScenario> {
  const dir = path.resolve(dirArg);
  if (!(await isDir(dir))) throw new InputError('--scenario', `${dirArg} is not a directory`);
  const yamlPath = path.join(dir, 'scenario.yaml');
  let text: string;
  try {
    text = await readFile(yamlPath, 'utf8');
  } catch {
    throw new InputError('scenario.yaml', `missing in ${dir}`);
  }
  let raw: unknown;
  try {
    raw = parse(text);
  } catch (e) {
    throw new InputError('scenario.yaml', `not valid YAML: ${(e as Error).message.split('\n')[0]}`);
  }
  const file = ScenarioFile.safeParse(raw);
  if (!file.success) throw issueText('scenario.yaml', file.error.issues);

  const logs = await filesIn(path.join(dir, 'logs'), '.jsonl');
  for (const f of logs) {
    const lines = (await readFile(f, 'utf8')).split('\n');
    for (let n = 0; n < lines.length; n++) {
      if (!lines[n]!.trim()) continue;
      const rel = `logs/${path.basename(f)}:${n + 1}`;
      let obj: unknown;
      try {
        obj = JSON.parse(lines[n]!);
      } catch {
        throw new InputError(rel, 'not a JSON object');
      }
      const r = LogLine.safeParse(obj);
      if (!r.success) throw issueText(rel, r.error.issues);
    }
  }
  const runbooks = await filesIn(path.join(dir, 'runbooks'), '.md');
  for (const f of runbooks) {
    const rel = `runbooks/${path.basename(f)}`;
    const m = /^---\n([\s\S]*?)\n---/.exec(await readFile(f, 'utf8'));
    if (!m) throw new InputError(rel, 'no front matter (--- ... ---)');
    let fm: unknown;
    try {
      fm = parse(m[1]!);
    } catch (e) {
      throw new InputError(rel, `front matter is not valid YAML: ${(e as Error).message.split('\n')[0]}`);
    }
    const r = RunbookFrontMatter.safeParse(fm);
    if (!r.success) throw issueText(`${rel} front matter`, r.error.issues);
  }
  const omFiles = await filesIn(path.join(dir, 'metrics'), '.om');
  for (const f of omFiles) {
    const body = await readFile(f, 'utf8');
    if (!/# EOF\s*$/.test(body)) throw new InputError(`metrics/${path.basename(f)}`, 'OpenMetrics text must end with "# EOF"');
  }
  if (!logs.length && !runbooks.length && !omFiles.length) {
    throw new InputError('--scenario', `${dir} has no metrics/*.om, logs/*.jsonl or runbooks/*.md`);
  }

  const s = file.data;
  return {
    dir,
    incident: { id: s.id, title: s.title, service: s.service, severity: s.severity, report: s.report, window: s.window, now: s.now },
    sources: {
      ...(logs.length ? { logsDir: path.join(dir, 'logs') } : {}),
      ...(runbooks.length ? { runbooksDir: path.join(dir, 'runbooks') } : {}),
    },
    omFiles,
  };
}
