import { WorkflowUpdateFailedError, type Client } from '@temporalio/client';
import { randomBytes, timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { lintTask } from '../brain/lint';
import { type DispatchReply, type DispatchRequest, dispatchProblem, dispatchUpdate, MAX_TASK_CHARS } from '../workflows/dispatch-update';

export interface DispatchEndpoint {
  /** http://127.0.0.1:PORT/dispatch */
  url: string;
  token: string;
  close(): Promise<void>;
}

const MAX_BODY = MAX_TASK_CHARS * 4 + 1024;

function send(res: ServerResponse, status: number, body: DispatchReply | { ok: false; error: string }): void {
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
 * One session's dispatch endpoint: a loopback HTTP server the session sandbox may reach (its
 * policy names this port and nothing of Temporal), with a bearer token of its own. Each
 * `POST /dispatch {agent, task}` becomes a `dispatch` Update on that session's workflow, so the
 * sandbox can ask for specialists but cannot start, signal or read any workflow itself.
 */
export async function startDispatchEndpoint(client: Client, workflowId: string): Promise<DispatchEndpoint> {
  const token = randomBytes(32).toString('hex');
  const handle = client.workflow.getHandle(workflowId);
  const server = createServer(async (req, res) => {
    try {
      if (req.method !== 'POST' || req.url !== '/dispatch') return send(res, 404, { ok: false, error: 'POST /dispatch only' });
      if (!authorized(req, token)) return send(res, 401, { ok: false, error: 'bad dispatch token' });
      const text = await readBody(req);
      if (text === null) return send(res, 413, { ok: false, error: `request larger than ${MAX_BODY} bytes` });
      let body: unknown;
      try {
        body = JSON.parse(text);
      } catch {
        return send(res, 400, { ok: false, error: 'body is not JSON' });
      }
      const problem = dispatchProblem(body);
      if (problem) return send(res, 400, { ok: false, error: problem });
      const { agent, task } = body as DispatchRequest;
      // Linted here, before the Update: its arguments are recorded in history.
      const reply = await handle.executeUpdate(dispatchUpdate, { args: [{ agent, task: lintTask(task).task }] });
      send(res, 200, reply);
    } catch (e) {
      if (e instanceof WorkflowUpdateFailedError) {
        // The validator refused it (or the session is ending): the caller's request, not our fault.
        return send(res, 400, { ok: false, error: e.cause?.message ?? e.message });
      }
      send(res, 503, { ok: false, error: `dispatch failed: ${(e as Error).message}` });
    }
  });
  // A specialist may run for minutes: no server-side timeout may cut the answer off.
  server.requestTimeout = 0;
  server.headersTimeout = 60_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/dispatch`,
    token,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
