import { accessSync, constants } from 'node:fs';
import { delimiter, join, resolve } from 'node:path';

/** src/stack -> repo root; resolved from this file so it works from any cwd. */
export const REPO_ROOT = resolve(import.meta.dirname, '..', '..');

function executable(path: string): boolean {
  try {
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

function fromPath(name: string, hint: string): string {
  const candidates = [...(process.env.PATH ?? '').split(delimiter).filter(Boolean), '/usr/bin', '/usr/local/bin'];
  for (const dir of candidates) {
    const p = join(dir, name);
    if (executable(p)) return p;
  }
  throw new Error(`${name} not found on PATH (${hint}); run npm run setup`);
}

/** The Temporal CLI built by scripts/setup.sh (not on PATH on purpose: a pinned version). */
export function temporalBin(): string {
  const p = join(REPO_ROOT, '.tools', 'bin', 'temporal');
  if (!executable(p)) throw new Error(`Temporal CLI missing at ${p}; run npm run setup`);
  return p;
}

export function prometheusBin(): string {
  return fromPath('prometheus', 'Debian package prometheus');
}

export function promtoolBin(): string {
  return fromPath('promtool', 'Debian package prometheus');
}
