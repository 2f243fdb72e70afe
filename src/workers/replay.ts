import { historyFromJSON } from './history-json';
import type { History } from '@temporalio/common/lib/proto-utils';
import { Worker } from '@temporalio/worker';
import { readFile } from 'node:fs/promises';
import path from 'node:path';

const WORKFLOWS = path.resolve(import.meta.dirname, '../workflows/index.ts');

export interface NamedHistory {
  workflowId: string;
  history: History;
}
export interface ReplayOutcome {
  workflowId: string;
  /** null: the current workflow code reproduces the history's commands exactly. */
  error: string | null;
  nondeterministic: boolean;
}

/**
 * Replay needs the original workflow id (child ids and sandbox names derive from it), and a
 * history file does not hold it, so recorded files are named after it, '/' escaped.
 */
export const historyFileName = (workflowId: string) => `${encodeURIComponent(workflowId)}.json`;

/** A history as `temporal workflow show --output json` writes it; the id from the file name unless given. */
export async function loadHistoryFile(file: string, workflowId?: string): Promise<NamedHistory> {
  const json = JSON.parse(await readFile(file, 'utf8')) as unknown;
  return { workflowId: workflowId ?? decodeURIComponent(path.basename(file, '.json')), history: historyFromJSON(json) };
}

/**
 * Replays histories against the workflow code in this checkout (one bundle for all of them).
 * A DeterminismViolationError means a change to workflow code would break runs in flight.
 */
export async function replayHistories(histories: NamedHistory[]): Promise<ReplayOutcome[]> {
  const out: ReplayOutcome[] = [];
  const results = Worker.runReplayHistories({ workflowsPath: WORKFLOWS }, histories);
  for await (const r of results) {
    out.push({
      workflowId: r.workflowId,
      error: r.error ? `${r.error.name}: ${r.error.message}` : null,
      nondeterministic: r.error?.name === 'DeterminismViolationError',
    });
  }
  return out;
}
