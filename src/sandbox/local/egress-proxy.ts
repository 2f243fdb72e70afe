import { appendFileSync, chmodSync, rmSync } from 'node:fs';
import net from 'node:net';
import type { ResolvedPolicy } from '../../schemas/policy';
import { SandboxError, type Denial } from '../driver';

const MAX_HEAD = 64 * 1024;
const REASON_NOT_ALLOWED = 'host is not on the allow list';
/**
 * Refusals recorded per sandbox. Denials travel to the report: a sandbox must not be able to
 * write without bound there (nor fill the host's disk), so past this many one line says so.
 */
export const MAX_DENIALS = 200;
/** A DNS name (RFC 1123 labels, plus `_` as in service names) or an IP literal: nothing else is a host, or goes in a record. */
const HOST_RE = /^(?=.{1,253}$)([A-Za-z0-9_]([A-Za-z0-9_-]{0,61}[A-Za-z0-9_])?)(\.[A-Za-z0-9_]([A-Za-z0-9_-]{0,61}[A-Za-z0-9_])?)*\.?$|^[0-9A-Fa-f:.]{2,45}$/;

/**
 * One sandbox's way out: an HTTP proxy (CONNECT tunnels and plain absolute-URI requests) on a unix
 * socket that is bind-mounted into the sandbox, the sandbox's network namespace having nothing
 * but loopback. Every connection is checked against the sandbox's current allow-list of
 * host:port pairs (replaced live by `setAllowed`); each refusal is answered 403 and appended to
 * the denial log, one line per refused request.
 */
export class EgressProxy {
  private allowed = new Set<string>();
  private recorded = 0;
  private readonly server: net.Server;
  private readonly sockets = new Set<net.Socket>();

  constructor(
    readonly socketPath: string,
    private readonly denialLog: string,
  ) {
    this.server = net.createServer((c) => this.onClient(c));
  }

  async listen(): Promise<void> {
    rmSync(this.socketPath, { force: true });
    await new Promise<void>((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(this.socketPath, () => resolve());
    });
    // The sandbox runs as its own unprivileged uid: it must be able to connect.
    chmodSync(this.socketPath, 0o666);
  }

  /** Replaces the allow-list; in force for the next connection (tunnels already open stay open). */
  setAllowed(hostPorts: { host: string; port: number }[]): void {
    this.allowed = new Set(hostPorts.map((h) => key(h.host, h.port)));
  }

  close(): void {
    for (const s of this.sockets) s.destroy();
    this.server.close();
    rmSync(this.socketPath, { force: true });
  }

  private onClient(c: net.Socket): void {
    this.sockets.add(c);
    c.on('close', () => this.sockets.delete(c));
    c.on('error', () => {});
    let buf = Buffer.alloc(0);
    const onData = (chunk: Buffer) => {
      buf = Buffer.concat([buf, chunk]);
      const end = buf.indexOf('\r\n\r\n');
      if (end < 0) {
        if (buf.length > MAX_HEAD) c.end('HTTP/1.1 431 Request Header Fields Too Large\r\nConnection: close\r\n\r\n');
        return;
      }
      c.off('data', onData);
      c.pause();
      this.route(c, buf.subarray(0, end).toString('latin1'), buf.subarray(end + 4));
    };
    c.on('data', onData);
  }

  private route(c: net.Socket, head: string, rest: Buffer): void {
    const [requestLine, ...headers] = head.split('\r\n');
    const m = /^([A-Z]+) (\S+) (HTTP\/1\.[01])$/.exec(requestLine ?? '');
    if (!m) return void c.end('HTTP/1.1 400 Bad Request\r\nConnection: close\r\n\r\n');
    const [, method, target, version] = m as unknown as [string, string, string, string];
    let host: string;
    let port: number;
    let forwardHead: string | null = null;
    if (method === 'CONNECT') {
      const hp = parseHostPort(target);
      if (!hp) return void c.end('HTTP/1.1 400 Bad Request\r\nConnection: close\r\n\r\n');
      ({ host, port } = hp);
    } else {
      let u: URL;
      try {
        u = new URL(target);
      } catch {
        return void c.end('HTTP/1.1 400 Bad Request\r\nConnection: close\r\n\r\n');
      }
      if (u.protocol !== 'http:') return void c.end('HTTP/1.1 400 Bad Request\r\nConnection: close\r\n\r\n');
      host = u.hostname.replace(/^\[|\]$/g, '');
      port = u.port ? Number(u.port) : 80;
      // Origin-form to the server; hop-by-hop proxy headers dropped; one request per connection,
      // so a second request on this socket cannot go to another host.
      const kept = headers.filter((h) => !/^(proxy-connection|proxy-authorization|connection|keep-alive)\s*:/i.test(h));
      forwardHead = [`${method} ${u.pathname}${u.search} ${version}`, ...kept, 'Connection: close'].join('\r\n') + '\r\n\r\n';
    }
    if (!HOST_RE.test(host)) return void c.end('HTTP/1.1 400 Bad Request\r\nConnection: close\r\n\r\nbulkhead: malformed host\n');
    if (!this.allowed.has(key(host, port))) {
      this.deny(host, port);
      return void c.end(`HTTP/1.1 403 Forbidden\r\nContent-Type: text/plain\r\nConnection: close\r\n\r\nbulkhead: ${host}:${port} ${REASON_NOT_ALLOWED}\n`);
    }
    const up = net.connect({ host, port });
    this.sockets.add(up);
    up.on('close', () => this.sockets.delete(up));
    up.once('error', () => {
      if (forwardHead === null && !c.destroyed && up.connecting) c.end('HTTP/1.1 502 Bad Gateway\r\nConnection: close\r\n\r\n');
      else c.destroy();
    });
    up.once('connect', () => {
      if (forwardHead === null) c.write('HTTP/1.1 200 Connection Established\r\n\r\n');
      else up.write(forwardHead);
      if (rest.length) up.write(rest);
      c.pipe(up);
      up.pipe(c);
      c.resume();
    });
    c.once('close', () => up.destroy());
  }

  private deny(host: string, port: number): void {
    if (this.recorded > MAX_DENIALS) return;
    this.recorded++;
    const d: Denial =
      this.recorded > MAX_DENIALS
        ? { host: '(more)', port: 0, binary: null, reason: `denial log full: refusals after the first ${MAX_DENIALS} are not recorded` }
        : { host, port, binary: null, reason: REASON_NOT_ALLOWED };
    try {
      appendFileSync(this.denialLog, JSON.stringify(d) + '\n');
    } catch {
      /* sandbox being deleted */
    }
  }
}

function key(host: string, port: number): string {
  return `${host.toLowerCase().replace(/^\[|\]$/g, '')}:${port}`;
}

function parseHostPort(s: string): { host: string; port: number } | null {
  const m = /^\[([^\]]+)\]:(\d+)$/.exec(s) ?? /^([^:[\]]+):(\d+)$/.exec(s);
  if (!m) return null;
  const port = Number(m[2]);
  if (!Number.isInteger(port) || port < 1 || port > 65535) return null;
  return { host: m[1]!, port };
}

/** The policy's endpoints as host:port pairs; a malformed one rejects the whole policy. */
export function allowedEndpoints(policy: ResolvedPolicy): { host: string; port: number }[] {
  return policy.endpoints.map((e) => {
    const host = e.host.replace(/^\[|\]$/g, '');
    if (!host || /[\s/*,]/.test(host) || !Number.isInteger(e.port) || e.port < 1 || e.port > 65535) {
      throw new SandboxError(`policy endpoint ${e.name}: invalid host:port ${e.host}:${e.port}`, 'PolicyRejected', false);
    }
    return { host, port: e.port };
  });
}
