import { randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * A stand-in of the Claude Managed Agents API for self-hosted environments, reached through
 * ANTHROPIC_BASE_URL. Every behaviour names where it was read (the installed @anthropic-ai/sdk
 * 1.12 source under node_modules/@anthropic-ai/sdk/src, and ../shared/contracts/managed-agents.md,
 * "the sheet", which summarises the platform docs and anthropics/anthropic-cli pkg/cmd/worker.go).
 * The brain is scripted: each session is a list of bash commands, delivered as `agent.tool_use`
 * events ONE at a time (the sheet, "Tool calls inside a session"), the next only after the
 * previous one's `user.tool_result`.
 */

// resources/beta/environments/work.ts and sessions/events.ts add this beta to every call.
export const BETA = 'managed-agents-2026-04-01';
// lib/environments/worker.ts: NO_HEARTBEAT_SENTINEL, the echo of a lease never heartbeated.
const NO_HEARTBEAT = 'NO_HEARTBEAT';
// lib/environments/poller.ts: "API caps block_ms at 999".
const MAX_BLOCK_MS = 999;
// The sheet, "Leases": un-acked items come back after reclaim_older_than_ms (default 5 s).
const DEFAULT_RECLAIM_MS = 5000;

type WorkState = 'queued' | 'starting' | 'active' | 'stopping' | 'stopped';

export interface ToolCallRecord {
  toolUseId: string;
  command: string;
  deliveredAt: number;
  answeredAt: number | null;
  isError: boolean | null;
  text: string | null;
}

export interface StandinWork {
  id: string;
  sessionId: string;
  state: WorkState;
  secret: string;
  sessionsToken: string;
  polledAt: number | null;
  pollCount: number;
  acked: number;
  lastHeartbeat: string | null;
  lastHeartbeatAt: number;
  ttlSeconds: number;
  stopRequested: boolean;
  stops: { force: boolean; auth: 'env' | 'session' }[];
  heartbeats: number;
}

/** A scripted brain turn: a bash command, or one written from the previous tool result. */
export type ScriptStep = string | ((previous: string | null) => string);

interface Session {
  id: string;
  status: 'idle' | 'running' | 'rescheduling' | 'terminated';
  script: ScriptStep[];
  next: number;
  events: Record<string, unknown>[];
  calls: ToolCallRecord[];
  streams: Set<ServerResponse>;
}

export interface StandinOptions {
  environmentId?: string;
  /** Lease ttl the heartbeat grants (work.ts BetaWorkHeartbeat.ttl_seconds). */
  ttlSeconds?: number;
  /** The cut of one tool call (the sheet: 120 s); a later result is recorded as late. */
  toolCutMs?: number;
}

export interface Standin {
  url: string;
  environmentId: string;
  environmentKey: string;
  /** Creates a session with a scripted brain and queues its work item; returns the work id. */
  addSession(script: ScriptStep[], sessionId?: string, workId?: string): { sessionId: string; workId: string };
  /** A new message to a dormant session: more scripted turns and a NEW work item (its id). */
  wakeSession(sessionId: string, script: ScriptStep[]): string;
  work(workId: string): StandinWork;
  calls(sessionId: string): ToolCallRecord[];
  events(sessionId: string): Record<string, unknown>[];
  /** Server-side stop: heartbeats answer state "stopping" from now on. */
  requestStop(workId: string): void;
  /** Another worker took the lease: the next heartbeat's echo is stale (412). */
  stealLease(workId: string): void;
  /** Every request seen: method, path, which credential, and what was refused. */
  log: { method: string; path: string; auth: 'env' | 'session' | 'none'; status: number }[];
  /** While true, ack requests are received but never applied nor answered (a worker dying mid-ack). */
  holdAcks: boolean;
  /** Tool results that arrived after the cut. */
  late(): ToolCallRecord[];
  close(): Promise<void>;
}

const b64url = (s: string) => Buffer.from(s).toString('base64url');
const now = () => new Date().toISOString();
const id = (prefix: string) => `${prefix}_${randomBytes(12).toString('hex')}`;

function send(res: ServerResponse, status: number, body: unknown): number {
  res.writeHead(status, { 'content-type': 'application/json', 'request-id': id('req') });
  res.end(JSON.stringify(body));
  return status;
}

/** The API's error envelope (core/error.ts reads body.error.type / message). */
function error(res: ServerResponse, status: number, type: string, message: string, details?: unknown): number {
  return send(res, status, { type: 'error', error: { type, message, ...(details ? { details } : {}) } });
}

async function readJson(req: IncomingMessage): Promise<unknown> {
  const chunks: Buffer[] = [];
  for await (const c of req) chunks.push(c as Buffer);
  const text = Buffer.concat(chunks).toString('utf8');
  return text ? JSON.parse(text) : {};
}

export async function startStandin(opts: StandinOptions = {}): Promise<Standin> {
  const environmentId = opts.environmentId ?? id('env');
  // The sheet: environment keys look like sk-ant-oat01-..., sessions tokens sk-ant-req-...
  const environmentKey = `sk-ant-oat01-${randomBytes(24).toString('hex')}`;
  const ttlSeconds = opts.ttlSeconds ?? 90;
  const toolCutMs = opts.toolCutMs ?? 120_000;
  const works = new Map<string, StandinWork>();
  const sessions = new Map<string, Session>();
  const tokens = new Map<string, string>(); // sessions token -> session id
  const log: Standin['log'] = [];
  const waiters = new Set<() => void>();
  let url = '';

  const wake = () => {
    for (const w of waiters) w();
  };

  function emit(s: Session, ev: Record<string, unknown>): void {
    const full: Record<string, unknown> = { id: id('sevt'), processed_at: now(), ...ev };
    s.events.push(full);
    // SSE: every message carries an `event:` name (core/streaming.ts skips nameless ones).
    for (const res of s.streams) res.write(`event: ${String(full.type)}\ndata: ${JSON.stringify(full)}\n\n`);
  }

  /** The scripted brain's next turn: one bash tool call, or the end of its turn. */
  function nextTurn(s: Session): void {
    if (s.next < s.script.length) {
      const step = s.script[s.next++]!;
      const command = typeof step === 'string' ? step : step(s.calls.at(-1)?.text ?? null);
      s.status = 'running';
      emit(s, { type: 'session.status_running' });
      const toolUseId = id('sevt');
      emit(s, { type: 'agent.tool_use', id: toolUseId, name: 'bash', input: { command } });
      s.calls.push({ toolUseId, command, deliveredAt: Date.now(), answeredAt: null, isError: null, text: null });
    } else {
      s.status = 'idle';
      // SessionToolRunner.endsTurn: idle with a stop_reason other than requires_action ends the turn.
      emit(s, { type: 'session.status_idle', stop_reason: { type: 'end_turn' } });
    }
  }

  /** A lease not heartbeated within its ttl lapses: the item goes back to the queue. */
  function expire(w: StandinWork): void {
    if ((w.state === 'starting' || w.state === 'active') && w.lastHeartbeat && Date.now() - w.lastHeartbeatAt > w.ttlSeconds * 1000) {
      w.state = 'queued';
      w.polledAt = null;
      w.lastHeartbeat = null;
    }
  }

  function claimable(reclaimMs: number): StandinWork | undefined {
    for (const w of works.values()) {
      expire(w);
      if (w.state === 'queued' && (w.polledAt === null || Date.now() - w.polledAt >= reclaimMs)) return w;
    }
    return undefined;
  }

  function workJson(w: StandinWork, withSecret: boolean) {
    // resources/beta/environments/work.ts BetaSelfHostedWork.
    return {
      type: 'work',
      id: w.id,
      environment_id: environmentId,
      data: { type: 'session', id: w.sessionId },
      state: w.state,
      metadata: {},
      secret: withSecret ? w.secret : null,
      created_at: now(),
      acknowledged_at: w.acked ? now() : null,
      latest_heartbeat_at: w.lastHeartbeat,
      started_at: null,
      stop_requested_at: w.stopRequested ? now() : null,
      stopped_at: w.state === 'stopped' ? now() : null,
    };
  }

  const server = createServer(async (req, res) => {
    const u = new URL(req.url ?? '/', 'http://x');
    const entry = { method: req.method ?? '', path: u.pathname, auth: 'none' as 'env' | 'session' | 'none', status: 0 };
    log.push(entry);
    const done = (status: number) => (entry.status = status);
    try {
      // The sheet: every call carries the beta header and a Bearer credential, never x-api-key.
      if (!(req.headers['anthropic-beta'] ?? '').toString().split(',').includes(BETA)) {
        return done(error(res, 400, 'invalid_request_error', `anthropic-beta: must include ${BETA}`));
      }
      if (req.headers['x-api-key']) return done(error(res, 401, 'authentication_error', 'x-api-key is not accepted here: use Authorization: Bearer'));
      const bearer = (req.headers.authorization ?? '').replace(/^Bearer\s+/i, '');
      const tokenSession = tokens.get(bearer);
      entry.auth = bearer === environmentKey ? 'env' : tokenSession ? 'session' : 'none';
      if (entry.auth === 'none') return done(error(res, 401, 'authentication_error', 'invalid bearer credential'));

      let m: RegExpExecArray | null;
      // --- work queue (resources/beta/environments/work.ts) ---
      if ((m = /^\/v1\/environments\/([^/]+)\/work\/poll$/.exec(u.pathname)) && req.method === 'GET') {
        if (m[1] !== environmentId) return done(error(res, 404, 'not_found_error', 'environment not found'));
        // The sheet: polling takes the environment key.
        if (entry.auth !== 'env') return done(error(res, 403, 'permission_error', 'poll needs the environment key'));
        const blockMs = Number(u.searchParams.get('block_ms') ?? 0);
        if (!(blockMs >= 0 && blockMs <= MAX_BLOCK_MS)) return done(error(res, 400, 'invalid_request_error', `block_ms: at most ${MAX_BLOCK_MS}`));
        const reclaim = Number(u.searchParams.get('reclaim_older_than_ms') ?? DEFAULT_RECLAIM_MS);
        let w = claimable(reclaim);
        if (!w && blockMs > 0) {
          await new Promise<void>((resolve) => {
            const t = setTimeout(resolve, blockMs);
            const f = () => {
              clearTimeout(t);
              resolve();
            };
            waiters.add(f);
            setTimeout(() => waiters.delete(f), blockMs + 10);
          });
          w = claimable(reclaim);
        }
        // poller.ts: an empty queue answers null (`work == null`).
        if (!w) return done(send(res, 200, null));
        w.polledAt = Date.now();
        w.pollCount++;
        return done(send(res, 200, workJson(w, true)));
      }
      if ((m = /^\/v1\/environments\/([^/]+)\/work\/stats$/.exec(u.pathname)) && req.method === 'GET') {
        if (m[1] !== environmentId) return done(error(res, 404, 'not_found_error', 'environment not found'));
        if (entry.auth !== 'env') return done(error(res, 403, 'permission_error', 'stats needs the environment key'));
        // work.ts BetaSelfHostedWorkQueueStats.
        const queued = [...works.values()].filter((w) => w.state === 'queued');
        return done(send(res, 200, { type: 'work_queue_stats', depth: queued.length, pending: queued.length, oldest_queued_at: null, workers_polling: null }));
      }
      const wm = /^\/v1\/environments\/([^/]+)\/work\/([^/]+)\/(ack|heartbeat|stop)$/.exec(u.pathname);
      if (wm && req.method === 'POST') {
        const w = works.get(wm[2]!);
        if (wm[1] !== environmentId || !w) return done(error(res, 404, 'not_found_error', `work ${wm[2]} not found`));
        // The sheet: the sessions token is preferred for heartbeat and stop; it is scoped to its session.
        if (entry.auth === 'session' && tokenSession !== w.sessionId) return done(error(res, 403, 'permission_error', 'token is for another session'));
        expire(w);
        if (wm[3] === 'ack') {
          if (standin.holdAcks) return done(-1);
          if (entry.auth !== 'env') return done(error(res, 403, 'permission_error', 'ack needs the environment key'));
          if (w.state === 'stopped') return done(error(res, 409, 'invalid_request_error', 'work is stopped'));
          // queued -> starting (the sheet, "Leases").
          if (w.state === 'queued') w.state = 'starting';
          w.acked++;
          w.lastHeartbeatAt = Date.now();
          return done(send(res, 200, workJson(w, false)));
        }
        if (wm[3] === 'heartbeat') {
          w.heartbeats++;
          const expected = u.searchParams.get('expected_last_heartbeat');
          const current = w.lastHeartbeat ?? NO_HEARTBEAT;
          const lease = { last_heartbeat: w.lastHeartbeat, lease_extended: false, state: w.state, ttl_seconds: w.ttlSeconds };
          if (w.state === 'stopped') return done(send(res, 200, { type: 'work_heartbeat', ...lease, last_heartbeat: current }));
          // worker.ts serverLeaseState: error.details.current_state on a 412.
          if (expected !== current || w.state === 'queued') {
            return done(error(res, 412, 'invalid_request_error', 'expected_last_heartbeat does not match', { error_code: 'heartbeat_precondition_failed', current_state: lease }));
          }
          const desired = Number(u.searchParams.get('desired_ttl_seconds') ?? 0);
          if (desired > 0) w.ttlSeconds = Math.min(desired, ttlSeconds);
          w.lastHeartbeat = `${now()}#${randomBytes(3).toString('hex')}`;
          w.lastHeartbeatAt = Date.now();
          if (w.state === 'starting') w.state = 'active';
          if (w.stopRequested) w.state = 'stopping';
          return done(send(res, 200, { type: 'work_heartbeat', last_heartbeat: w.lastHeartbeat, lease_extended: !w.stopRequested, state: w.state, ttl_seconds: w.ttlSeconds }));
        }
        // stop {force?}: 409 when already stopped (the sheet; worker.ts forceStop swallows the 409).
        const body = (await readJson(req)) as { force?: boolean };
        if (w.state === 'stopped') return done(error(res, 409, 'invalid_request_error', 'work already stopped'));
        w.stops.push({ force: !!body.force, auth: entry.auth as 'env' | 'session' });
        w.state = 'stopped';
        return done(send(res, 200, workJson(w, false)));
      }
      // --- sessions (resources/beta/sessions/sessions.ts, events.ts) ---
      const sm = /^\/v1\/sessions\/([^/]+)(\/events(\/stream)?)?$/.exec(u.pathname);
      if (sm) {
        const s = sessions.get(sm[1]!);
        if (!s) return done(error(res, 404, 'not_found_error', `session ${sm[1]} not found`));
        if (entry.auth === 'session' && tokenSession !== s.id) return done(error(res, 403, 'permission_error', 'token is for another session'));
        if (!sm[2] && req.method === 'GET') {
          return done(send(res, 200, { type: 'session', id: s.id, status: s.status, resources: [], agent: { type: 'agent', id: 'agent_standin', skills: [] }, created_at: now() }));
        }
        if (sm[3] && req.method === 'GET') {
          res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
          res.write(': connected\n\n');
          s.streams.add(res);
          req.on('close', () => s.streams.delete(res));
          return done(200);
        }
        if (sm[2] && req.method === 'GET') {
          // PageCursor (core/pagination.ts): {data, next_page}; `page` is the cursor.
          const limit = Math.max(1, Math.min(Number(u.searchParams.get('limit') ?? 20), 1000));
          const start = Number(u.searchParams.get('page') ?? 0);
          const data = s.events.slice(start, start + limit);
          const next = start + limit < s.events.length ? String(start + limit) : null;
          return done(send(res, 200, { data, next_page: next }));
        }
        if (sm[2] && req.method === 'POST') {
          const body = (await readJson(req)) as { events?: { type?: string; tool_use_id?: string; is_error?: boolean; content?: { type: string; text?: string }[] }[] };
          if (!Array.isArray(body.events) || body.events.length === 0) return done(error(res, 400, 'invalid_request_error', 'events: expected a non-empty array'));
          for (const ev of body.events) {
            if (ev.type !== 'user.tool_result') return done(error(res, 400, 'invalid_request_error', `events[].type: ${String(ev.type)} not supported by the stand-in`));
            const call = s.calls.find((c) => c.toolUseId === ev.tool_use_id);
            if (!call) return done(error(res, 400, 'invalid_request_error', `tool_use_id: ${String(ev.tool_use_id)} is not a tool use of this session`));
            if (call.answeredAt !== null) return done(error(res, 400, 'invalid_request_error', `tool_use_id: ${call.toolUseId} already has a result`));
          }
          for (const ev of body.events) {
            const call = s.calls.find((c) => c.toolUseId === ev.tool_use_id)!;
            call.answeredAt = Date.now();
            call.isError = !!ev.is_error;
            call.text = (ev.content ?? []).map((c) => c.text ?? '').join('');
            emit(s, { type: 'user.tool_result', tool_use_id: call.toolUseId, is_error: call.isError, content: ev.content ?? [] });
          }
          nextTurn(s);
          return done(send(res, 200, { data: body.events }));
        }
      }
      return done(error(res, 404, 'not_found_error', `${req.method} ${u.pathname}: not in the stand-in`));
    } catch (e) {
      return done(error(res, 500, 'api_error', (e as Error).message));
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

  /** Queues a work item for a session, with its own sessions token and secret. */
  function queueWork(sessionId: string, workId: string): string {
    const sessionsToken = `sk-ant-req-${randomBytes(24).toString('hex')}`;
    tokens.set(sessionsToken, sessionId);
    // The sheet: secret = base64url JSON {sessions_token, api_base_url?}, no padding.
    const secret = b64url(JSON.stringify({ sessions_token: sessionsToken, api_base_url: url })).replace(/=+$/, '');
    works.set(workId, {
      id: workId,
      sessionId,
      state: 'queued',
      secret,
      sessionsToken,
      polledAt: null,
      pollCount: 0,
      acked: 0,
      lastHeartbeat: null,
      lastHeartbeatAt: Date.now(),
      ttlSeconds,
      stopRequested: false,
      stops: [],
      heartbeats: 0,
    });
    wake();
    return workId;
  }

  const standin: Standin = {
    holdAcks: false,
    url,
    environmentId,
    environmentKey,
    log,
    addSession(script, sessionId = id('sesn'), workId = id('work')) {
      const s: Session = { id: sessionId, status: 'running', script, next: 0, events: [], calls: [], streams: new Set() };
      sessions.set(sessionId, s);
      emit(s, { type: 'user.message', content: [{ type: 'text', text: 'Investigate the checkout outage.' }] });
      nextTurn(s);
      return { sessionId, workId: queueWork(sessionId, workId) };
    },
    wakeSession(sessionId, script) {
      // The sheet: a dormant session that receives a new message gets a NEW work item.
      const s = sessions.get(sessionId)!;
      s.script.push(...script);
      emit(s, { type: 'user.message', content: [{ type: 'text', text: 'One more question.' }] });
      nextTurn(s);
      return queueWork(sessionId, id('work'));
    },
    work: (w) => works.get(w)!,
    calls: (s) => sessions.get(s)!.calls,
    events: (s) => sessions.get(s)!.events,
    requestStop(w) {
      works.get(w)!.stopRequested = true;
    },
    stealLease(w) {
      works.get(w)!.lastHeartbeat = `${now()}#stolen`;
    },
    late: () => [...sessions.values()].flatMap((s) => s.calls.filter((c) => c.answeredAt !== null && c.answeredAt - c.deliveredAt > toolCutMs)),
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sessions.values()) for (const r of s.streams) r.end();
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
  return standin;
}
