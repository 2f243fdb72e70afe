import { stat } from 'node:fs/promises';
import type { Config } from '../config';
import { InputError } from '../errors';
import { loadHistoryFile, replayHistories, type NamedHistory } from '../workers/replay';
import { connectClient, requireAddress } from './client';

async function isFile(p: string): Promise<boolean> {
  return stat(p).then((s) => s.isFile(), () => false);
}

/**
 * `bulkhead replay ID|HISTORY.json`: replays a recorded history (a file, or the workflow's
 * history fetched from TEMPORAL_ADDRESS) against this checkout's workflow code. Exit 0 when it
 * is deterministic, 1 when not. A file's workflow id (child ids derive from it) is its name,
 * `<workflow-id>.json` with '/' as %2F, or --id.
 */
export async function replay(config: Config, target: string, id?: string): Promise<number> {
  let named: NamedHistory;
  const file = await isFile(target);
  if (target.endsWith('.json') || file) {
    if (!file) throw new InputError('HISTORY.json', `no such file: ${target}`);
    try {
      named = await loadHistoryFile(target, id);
    } catch (e) {
      throw new InputError('HISTORY.json', `not a history (temporal workflow show --output json): ${(e as Error).message}`);
    }
  } else {
    const { client, close } = await connectClient(requireAddress(config.TEMPORAL_ADDRESS, 'replay'), config.TEMPORAL_NAMESPACE);
    try {
      named = { workflowId: target, history: await client.workflow.getHandle(target).fetchHistory() };
    } catch (e) {
      throw new InputError('ID', `cannot fetch the history of ${target}: ${(e as Error).message}`);
    } finally {
      await close();
    }
  }
  const [r] = await replayHistories([named]);
  const events = named.history.events?.length ?? 0;
  if (!r || r.error === null) {
    console.log(`${named.workflowId}: deterministic (${events} events replayed against the current workflow code)`);
    return 0;
  }
  console.log(`${named.workflowId}: ${r.nondeterministic ? 'NOT deterministic' : 'replay failed'}: ${r.error}`);
  return 1;
}
