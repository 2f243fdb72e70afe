import { WorkflowUpdateFailedError, WorkflowUpdateStage, type Client } from '@temporalio/client';
import { randomBytes, timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { lintTask } from '../brain/lint';
import { type DispatchReply, type DispatchRequest, dispatchProblem, dispatchUpdate, MAX_TASK_CHARS } from '../workflows/dispatch-update';
import { fnv1a } from '../workflows/ids';

export interface DispatchEndpoint {
  /** http://HOST:PORT/dispatch */
  url: string;
  token: string;
  port: number;
  close(): Promise<void>;
}

export interface DispatchEndpointOptions {
  /** Where the sandbox reaches it: loopback for the local driver (BULKHEAD_DISPATCH_HOST). */
  host: string;
  /** Reuse a port (a resumed session keeps the address its sandbox was given); 0 picks one. */
  port?: number;
  /** How long one call waits for its specialist before answering 202 with a handle. */
  waitMs: number;
}

/** A pending answer: the specialist still runs; `dispatch --wait HANDLE` continues. */
export interface PendingReply {
  ok: false;
  pending: true;
  handle: string;
}

const MAX_BODY = MAX_TASK_CHARS * 4 + 1024;
const HANDLE = /^d-[A-Za-z0-9_-]{1,200}$/;

function send(res: ServerResponse, status: number, body: DispatchReply | PendingReply | { ok: false; error: string }): void {
  res.writeHead(status, { 'content-type': 'application/json' });
  res.end(JSON.stringify(body));
}

async function readBody(req: IncomingMessage): Promise<string | null> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const c of req) {
    size += (c as Buffer).length;
    if (size > MAX_BODY) return null;
    chunks.push(c as Buffer);
  }
  return Buffer.concat(chunks).toString('utf8');
}

function authorized(req: IncomingMessage, token: string): boolean {
  const given = Buffer.from((req.headers.authorization ?? '').replace(/^Bearer\s+/i, ''));
  const want = Buffer.from(token);
  return given.length === want.length && timingSafeEqual(given, want);
}

/**
 * The Update id of one dispatch: named after the brain's tool call (BULKHEAD_TOOL_USE_ID) and the
 * request, so a tool call re-delivered after a crash joins the specialist it already started
 * (Temporal deduplicates Updates by id) instead of running it again.
 */
export function dispatchHandle(toolUseId: string | undefined, agent: string, task: string): string {
  if (!toolUseId || !/^[A-Za-z0-9_-]{1,128}$/.test(toolUseId)) return `d-${randomBytes(12).toString('hex')}`;
  return `d-${toolUseId}-${fnv1a(`${agent}\u0000${task}`)}`;
}

async function within<T>(p: Promise<T>, ms: number): Promise<{ done: true; value: T } | { done: false }> {
  let t: NodeJS.Timeout | undefined;
  const timeout = new Promise<{ done: false }>((r) => (t = setTimeout(() => r({ done: false }), ms)));
  try {
    return await Promise.race([p.then((value) => ({ done: true as const, value })), timeout]);
  } finally {
    clearTimeout(t);
  }
}

/**
 * One session's dispatch endpoint, the only thing of ours the session sandbox may reach (its
 * policy names this host:port, nothing of Temporal), with a bearer token of its own.
 * `POST /dispatch {agent, task, toolUseId?}` starts a `dispatch` Update on the session workflow
 * and answers with the summary if the specialist ends within `waitMs`, else 202 with a handle;
 * `POST /dispatch/wait {handle}` waits again. Each call so stays well inside the 120 s cut of a
 * Managed Agents tool call, however long the specialist runs.
 */
export async function startDispatchEndpoint(client: Client, workflowId: string, opts: DispatchEndpointOptions): Promise<DispatchEndpoint> {
  const token = randomBytes(32).toString('hex');
  const handle = client.workflow.getHandle(workflowId);

  async function answer(res: ServerResponse, updateId: string, result: Promise<DispatchReply>): Promise<void> {
    result.catch(() => undefined);
    const r = await within(result, opts.waitMs);
    if (r.done) return send(res, 200, r.value);
    send(res, 202, { ok: false, pending: true, handle: updateId });
  }

  const server = createServer(async (req, res) => {
    try {
      if (req.method !== 'POST' || (req.url !== '/dispatch' && req.url !== '/dispatch/wait')) return send(res, 404, { ok: false, error: 'POST /dispatch or /dispatch/wait only' });
      if (!authorized(req, token)) return send(res, 401, { ok: false, error: 'bad dispatch token' });
      const text = await readBody(req);
      if (text === null) return send(res, 413, { ok: false, error: `request larger than ${MAX_BODY} bytes` });
      let body: unknown;
      try {
        body = JSON.parse(text);
      } catch {
        return send(res, 400, { ok: false, error: 'body is not JSON' });
      }
      if (req.url === '/dispatch/wait') {
        const h = (body as { handle?: unknown })?.handle;
        if (typeof h !== 'string' || !HANDLE.test(h)) return send(res, 400, { ok: false, error: 'handle: expected the d-... handle a pending dispatch printed' });
        return await answer(res, h, handle.getUpdateHandle<DispatchReply>(h).result());
      }
      const problem = dispatchProblem(body);
      if (problem) return send(res, 400, { ok: false, error: problem });
      const { agent, task, toolUseId } = body as DispatchRequest & { toolUseId?: string };
      const updateId = dispatchHandle(toolUseId, agent, task);
      // Linted here, before the Update: its arguments are recorded in history.
      const update = await handle.startUpdate(dispatchUpdate, { args: [{ agent, task: lintTask(task).task }], updateId, waitForStage: WorkflowUpdateStage.ACCEPTED });
      await answer(res, updateId, update.result());
    } catch (e) {
      if (e instanceof WorkflowUpdateFailedError) {
        // The validator refused it (or the session is ending): the caller's request, not our fault.
        return send(res, 400, { ok: false, error: e.cause?.message ?? e.message });
      }
      send(res, 503, { ok: false, error: `dispatch failed: ${(e as Error).message}` });
    }
  });
  server.requestTimeout = 0;
  server.headersTimeout = 60_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port ?? 0, opts.host, () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://${opts.host}:${port}/dispatch`,
    token,
    port,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
