import type { Client } from '@temporalio/client';
import { timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { renderMarkdown } from '../report/markdown';
import { durationMs, type ConfigFile } from '../schemas/config-file';
import { liveInput } from '../live/input';
import { redactDeep } from '../agents/redact';
import { mdText } from '../workflows/details';
import { alertInvestigation, parsePayload, PayloadError } from './alertmanager';
import { investigationView, recentInvestigations } from './investigations';
import { startOrJoin, uiSummary } from './start';

/** DESIGN.md section 10: bodies above this are refused with 413 before they are parsed. */
export const MAX_BODY_BYTES = 1_048_576;

export interface IntakeOptions {
  client: Client;
  taskQueue: string;
  config: ConfigFile;
  /** BULKHEAD_SERVE_TOKEN: every route but /healthz then needs `Authorization: Bearer <token>`. */
  token?: string;
  /** Link to one investigation (the Temporal UI when known), for notifications. */
  linkFor?: (workflowId: string) => string | null;
  now?: () => Date;
  log?: (line: string) => void;
}

class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly field?: string,
  ) {
    super(message);
  }
}

function send(res: ServerResponse, status: number, body: unknown, type = 'application/json'): void {
  const text = type === 'application/json' ? JSON.stringify(body) : String(body);
  res.writeHead(status, { 'content-type': `${type}; charset=utf-8`, 'content-length': Buffer.byteLength(text) });
  res.end(text);
}

/** Reads at most MAX_BODY_BYTES; a declared or actual larger body is a 413. */
async function readBody(req: IncomingMessage): Promise<Buffer> {
  const declared = Number(req.headers['content-length'] ?? NaN);
  if (declared > MAX_BODY_BYTES) throw new HttpError(413, `body larger than ${MAX_BODY_BYTES} bytes`);
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const c of req as AsyncIterable<Buffer>) {
    size += c.length;
    if (size > MAX_BODY_BYTES) throw new HttpError(413, `body larger than ${MAX_BODY_BYTES} bytes`);
    chunks.push(c);
  }
  return Buffer.concat(chunks);
}

function authorized(req: IncomingMessage, token: string | undefined): boolean {
  if (!token) return true;
  const given = Buffer.from(req.headers.authorization ?? '');
  const want = Buffer.from(`Bearer ${token}`);
  return given.length === want.length && timingSafeEqual(given, want);
}

/**
 * The HTTP intake of `bulkhead serve` (DESIGN.md section 10): Alertmanager webhooks in,
 * investigations out. A bad request starts nothing; a repeat of a group joins its investigation.
 */
export function createIntakeServer(opts: IntakeOptions): Server {
  const now = opts.now ?? (() => new Date());
  const log = opts.log ?? (() => undefined);
  const dedupeMs = durationMs(opts.config.intake.dedupe_for)!;

  async function alertmanager(req: IncomingMessage): Promise<{ status: number; body: unknown }> {
    const body = await readBody(req);
    let raw: unknown;
    try {
      raw = JSON.parse(body.toString('utf8'));
    } catch {
      throw new HttpError(400, 'body is not valid JSON', '(body)');
    }
    let inv;
    try {
      inv = alertInvestigation(parsePayload(raw), opts.config, now());
    } catch (e) {
      if (e instanceof PayloadError) throw new HttpError(400, e.message, e.field);
      throw e;
    }
    if (!inv) {
      log(`alert group ${(raw as { groupKey: string }).groupKey}: resolved, nothing started`);
      return { status: 200, body: { investigations: [] } };
    }
    // Annotations are free text from whoever wrote the rule: redacted before they are stored.
    const request = redactDeep(inv.request);
    const id = `incident-${request.id}`;
    const link = opts.linkFor?.(id) ?? undefined;
    const r = await startOrJoin(
      opts.client,
      opts.taskQueue,
      {
        incidentId: request.id,
        input: liveInput(opts.config, request, link),
        summary: uiSummary(request.title, request.service, request.severity),
        details: redactDeep(`**Reported**: ${mdText(request.report)}\n\n${inv.details}`),
      },
      dedupeMs,
      now().getTime(),
    );
    log(`alert group ${inv.groupKey}: ${r.status} ${r.id} (${request.service}, ${request.severity})`);
    return { status: 202, body: { investigations: [{ id: r.id, status: r.status, groupKey: inv.groupKey }] } };
  }

  async function route(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://intake');
    const p = url.pathname;
    if (p === '/healthz') {
      if (req.method !== 'GET' && req.method !== 'HEAD') throw new HttpError(405, 'use GET');
      return send(res, 200, { ok: true });
    }
    if (!authorized(req, opts.token)) {
      res.setHeader('www-authenticate', 'Bearer');
      throw new HttpError(401, 'missing or wrong bearer token (BULKHEAD_SERVE_TOKEN)');
    }
    if (p === '/v1/alertmanager') {
      if (req.method !== 'POST') throw new HttpError(405, 'use POST');
      const r = await alertmanager(req);
      return send(res, r.status, r.body);
    }
    if (req.method !== 'GET') throw new HttpError(405, 'use GET');
    if (p === '/v1/investigations') return send(res, 200, await recentInvestigations(opts.client));
    const m = /^\/v1\/investigations\/([^/]+)(\/report\.md)?$/.exec(p);
    if (m) {
      const id = decodeURIComponent(m[1]!);
      const view = await investigationView(opts.client, id);
      if (!view) throw new HttpError(404, `no investigation ${id}`);
      if (!m[2]) return send(res, 200, view);
      if (!view.report) throw new HttpError(404, `${id} has no report yet (status ${view.status})`);
      return send(res, 200, renderMarkdown(view.report), 'text/markdown');
    }
    throw new HttpError(404, `no route ${p}`);
  }

  return createServer((req, res) => {
    route(req, res).catch((e: unknown) => {
      const status = e instanceof HttpError ? e.status : 500;
      if (status === 500) log(`intake error: ${(e as Error).message}`);
      const body = { error: e instanceof HttpError ? e.message : 'internal error', ...(e instanceof HttpError && e.field ? { field: e.field } : {}) };
      if (res.headersSent) return res.destroy();
      // A 413 stops reading: close the connection rather than drain a huge body.
      if (status === 413) res.setHeader('connection', 'close');
      send(res, status, body);
    });
  });
}
