import type { Client } from '@temporalio/client';

/**
 * Workflow history as searchable text. fetchHistory() gives payload bytes as base64 strings
 * (or Uint8Array), so a leak check on JSON.stringify(history) would pass vacuously. Decoding
 * every payload's `data` as UTF-8 makes inputs, results and failure details readable.
 */
export function decodedJson(value: unknown): string {
  return JSON.stringify(value, (k, v: unknown) => {
    if (v instanceof Uint8Array) return Buffer.from(v).toString('utf8');
    if (k === 'data' && typeof v === 'string') return Buffer.from(v, 'base64').toString('utf8');
    return v;
  });
}

/** The investigation's history and every child's (children keep their own histories). */
export async function investigationHistoryText(client: Client, workflowId: string): Promise<string> {
  const ids = [workflowId];
  for await (const wf of client.workflow.list({ query: `WorkflowId STARTS_WITH "${workflowId}/"` })) ids.push(wf.workflowId);
  const parts: string[] = [];
  for (const id of ids) parts.push(decodedJson(await client.workflow.getHandle(id).fetchHistory()));
  return parts.join('\n');
}
