import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { Connection } from '@temporalio/client';
import { SearchAttributeType } from '@temporalio/common';
import { SEARCH_ATTRIBUTE_KEYS } from '../workflows/search-attributes';
import { freePort } from './ports';
import { supervise, waitReady } from './proc';
import { temporalBin } from './tools';

/** How `temporal server start-dev --search-attribute NAME=TYPE` spells each value type. */
const CLI_TYPE: Record<SearchAttributeType, string> = {
  [SearchAttributeType.TEXT]: 'Text',
  [SearchAttributeType.KEYWORD]: 'Keyword',
  [SearchAttributeType.INT]: 'Int',
  [SearchAttributeType.DOUBLE]: 'Double',
  [SearchAttributeType.BOOL]: 'Bool',
  [SearchAttributeType.DATETIME]: 'Datetime',
  [SearchAttributeType.KEYWORD_LIST]: 'KeywordList',
};

/**
 * Registered at start so the UI can filter investigations (DESIGN.md section 2): the keys the
 * workflows set, so a new one cannot be forgotten here.
 */
export const SEARCH_ATTRIBUTES: Record<string, string> = Object.fromEntries(
  SEARCH_ATTRIBUTE_KEYS.map((k) => [k.name, CLI_TYPE[k.type]]),
);

export interface DevServerOptions {
  /** gRPC frontend port; a free one when omitted. */
  port?: number;
  /** Web UI port; a free one when omitted; false for headless. */
  uiPort?: number | false;
  /** SQLite file to persist to; in memory when omitted. */
  dbFile?: string;
  /** Extra namespace created at launch ("default" always exists). */
  namespace?: string;
  log?: (line: string) => void;
  /** How long to wait for the frontend to answer (default 60 s: the machine may be busy). */
  readyTimeoutMs?: number;
}

export interface DevServer {
  /** host:port of the gRPC frontend. */
  address: string;
  uiUrl: string | null;
  stop(): Promise<void>;
}

export function devServerArgs(port: number, uiPort: number | false, dbFile?: string, namespace?: string): string[] {
  const args = ['server', 'start-dev', '--ip', '127.0.0.1', '--port', String(port)];
  args.push(...(uiPort === false ? ['--headless'] : ['--ui-port', String(uiPort)]));
  if (dbFile) args.push('--db-filename', dbFile);
  if (namespace && namespace !== 'default') args.push('--namespace', namespace);
  args.push(
    '--log-level', 'warn',
    // Same dynamic config as the SDK's own test server: Updates carry the ant-mode dispatch.
    '--dynamic-config-value', 'frontend.enableUpdateWorkflowExecution=true',
    '--dynamic-config-value', 'frontend.enableUpdateWorkflowExecutionAsyncAccepted=true',
    // Eager activities: the next sandbox step comes back with the workflow task that scheduled
    // it, saving a matching round trip per step.
    '--dynamic-config-value', 'system.enableActivityEagerExecution=true',
  );
  for (const [name, type] of Object.entries(SEARCH_ATTRIBUTES)) args.push('--search-attribute', `${name}=${type}`);
  return args;
}

/** Ready means the namespace we will use answers, not merely that the port is open. */
async function namespaceAnswers(address: string, namespace: string): Promise<boolean> {
  const conn = await Connection.connect({ address, connectTimeout: 1000 });
  try {
    await conn.workflowService.describeNamespace({ namespace });
    return true;
  } finally {
    await conn.close();
  }
}

export async function startDevServer(opts: DevServerOptions = {}): Promise<DevServer> {
  const port = opts.port ?? (await freePort());
  const uiPort = opts.uiPort === false ? false : (opts.uiPort ?? (await freePort()));
  const namespace = opts.namespace ?? 'default';
  const address = `127.0.0.1:${port}`;
  // A fresh clone has no .bulkhead/ yet, and the dev server does not create the db's folder.
  if (opts.dbFile) await mkdir(path.dirname(opts.dbFile), { recursive: true });
  const proc = supervise(temporalBin(), devServerArgs(port, uiPort, opts.dbFile, namespace), { log: opts.log });
  await waitReady(`temporal dev server on ${address}`, proc, () => namespaceAnswers(address, namespace), opts.readyTimeoutMs ?? 60_000);
  return {
    address,
    uiUrl: uiPort === false ? null : `http://127.0.0.1:${uiPort}`,
    stop: () => proc.stop(),
  };
}
