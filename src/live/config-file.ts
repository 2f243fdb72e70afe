import { readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import { parse } from 'yaml';
import { InputError } from '../errors';
import { ConfigFile } from '../schemas/config-file';

export interface LoadedConfigFile {
  /** Absolute path of the file read, or null when none was given and ./bulkhead.yaml is absent. */
  file: string | null;
  config: ConfigFile;
}

const isDir = (p: string) => stat(p).then((s) => s.isDirectory(), () => false);

/** Which file: --config, else BULKHEAD_CONFIG, else ./bulkhead.yaml (DESIGN.md section 10). */
export function configFilePath(flag: string | undefined, env: NodeJS.ProcessEnv = process.env, cwd = process.cwd()): { file: string; explicit: boolean; field: string } {
  if (flag) return { file: path.resolve(cwd, flag), explicit: true, field: '--config' };
  if (env.BULKHEAD_CONFIG) return { file: path.resolve(cwd, env.BULKHEAD_CONFIG), explicit: true, field: 'BULKHEAD_CONFIG' };
  return { file: path.resolve(cwd, 'bulkhead.yaml'), explicit: false, field: 'bulkhead.yaml' };
}

/** Validates the text of a config file; relative paths are taken from the file's folder. */
export async function parseConfigFile(text: string, file: string): Promise<ConfigFile> {
  const name = path.basename(file);
  let raw: unknown;
  try {
    raw = parse(text) ?? {};
  } catch (e) {
    throw new InputError(name, `not valid YAML: ${(e as Error).message.split('\n')[0]}`);
  }
  const r = ConfigFile.safeParse(raw);
  if (!r.success) {
    const i = r.error.issues[0]!;
    const keys = i.code === 'unrecognized_keys' ? [...i.path, i.keys[0]] : i.path;
    throw new InputError(`${name}: ${keys.map(String).join('.') || '(root)'}`, i.code === 'unrecognized_keys' ? 'unknown key' : i.message);
  }
  const cfg = r.data;
  const base = path.dirname(file);
  const abs = (p: string) => path.resolve(base, p);
  if (cfg.sources.logs) {
    cfg.sources.logs.dirs = cfg.sources.logs.dirs.map((d) => (typeof d === 'string' ? abs(d) : { ...d, path: abs(d.path) }));
    for (const [i, d] of cfg.sources.logs.dirs.entries()) {
      const p = typeof d === 'string' ? d : d.path;
      if (!(await isDir(p))) throw new InputError(`${name}: sources.logs.dirs.${i}`, `${p} is not a directory`);
    }
  }
  if (cfg.sources.runbooks) {
    cfg.sources.runbooks.dir = abs(cfg.sources.runbooks.dir);
    if (!(await isDir(cfg.sources.runbooks.dir))) {
      throw new InputError(`${name}: sources.runbooks.dir`, `${cfg.sources.runbooks.dir} is not a directory`);
    }
  }
  return cfg;
}

/**
 * Reads the config file. A file named by --config or BULKHEAD_CONFIG must exist; the default
 * ./bulkhead.yaml may be absent (then nothing is configured and every source says so).
 */
export async function loadConfigFile(flag?: string, env: NodeJS.ProcessEnv = process.env, cwd = process.cwd()): Promise<LoadedConfigFile> {
  const { file, explicit, field } = configFilePath(flag, env, cwd);
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch {
    if (explicit) throw new InputError(field, `cannot read ${file}`);
    return { file: null, config: ConfigFile.parse({}) };
  }
  return { file, config: await parseConfigFile(text, file) };
}
