import { access, constants } from 'node:fs/promises';
import path from 'node:path';
import { LABEL } from '../labels';

/** The gateway's `sandbox list -o json` row (crates/openshell-cli/src/run.rs sandbox_to_json). */
export interface ListRow {
  name: string;
  labels?: Record<string, string>;
  created_at?: string;
  phase?: string;
}

/** `YYYY-MM-DD HH:MM:SS` UTC (crates/openshell-cli/src/commands/common.rs format_epoch_ms), or `-`. */
export function parseCreated(s: string | undefined): string | null {
  if (!s || s === '-') return null;
  const d = new Date(/^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d$/.test(s) ? `${s.replace(' ', 'T')}Z` : s);
  return Number.isNaN(d.getTime()) ? null : d.toISOString();
}

/** The JSON array in `-o json` output, whatever else (a warning line) shares stdout. */
export function parseRows(stdout: string): ListRow[] | null {
  const start = stdout.search(/^\[/m);
  if (start < 0) return null;
  const end = stdout.lastIndexOf(']');
  try {
    const v = JSON.parse(stdout.slice(start, end + 1)) as unknown;
    return Array.isArray(v) ? (v as ListRow[]) : null;
  } catch {
    return null;
  }
}

/** True when `cmd` is an executable on env.PATH (the CLI's `ssh` for upload). */
export async function onPath(cmd: string, env: NodeJS.ProcessEnv): Promise<boolean> {
  for (const dir of (env.PATH ?? '').split(':').filter(Boolean)) {
    try {
      await access(path.join(dir, cmd), constants.X_OK);
      return true;
    } catch {
      // next
    }
  }
  return false;
}

/** The create's own labels say whose it is; a record without them is not ours to adopt. */
export function sameOwner(found: Record<string, string> | undefined, wanted: Record<string, string> | undefined): boolean {
  if (!wanted || !Object.keys(wanted).length) return true;
  return !!found && found[LABEL.managedBy] === wanted[LABEL.managedBy] && found[LABEL.stack] === wanted[LABEL.stack] && found[LABEL.owner] === wanted[LABEL.owner];
}

export function nameSelector(labels: Record<string, string> | undefined): string | undefined {
  if (!labels?.[LABEL.managedBy] || !labels[LABEL.stack]) return undefined;
  return `${LABEL.managedBy}=${labels[LABEL.managedBy]},${LABEL.stack}=${labels[LABEL.stack]}`;
}

