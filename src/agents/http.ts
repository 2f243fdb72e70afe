import type { Dispatcher } from 'undici';

/**
 * Every agent HTTP request (Prometheus, Loki, the model) goes through here.
 *
 * Inside the sandbox the network namespace has no interfaces at all: the only way out is the
 * policy-enforcing proxy named in HTTPS_PROXY/HTTP_PROXY. NO_PROXY lists localhost (the sandbox
 * library sets it for tools that talk to loopback), but loopback is unreachable here too, so we
 * deliberately ignore NO_PROXY and tunnel everything, 127.0.0.1 included. Node's global fetch
 * never looks at proxy variables, hence undici's own fetch with an explicit dispatcher (mixing
 * undici's ProxyAgent with Node's bundled fetch breaks across undici major versions).
 */

export function proxyFromEnv(env: NodeJS.ProcessEnv = process.env): string | null {
  const url = env.HTTPS_PROXY || env.https_proxy || env.HTTP_PROXY || env.http_proxy || '';
  return url.trim() === '' ? null : url.trim();
}

/**
 * undici is loaded on the first request, not at start-up: evaluating it is a sizeable share of
 * the agent's start, and an agent reading only local files never makes a request.
 */
type Undici = typeof import('undici');
let undici: Promise<Undici> | null = null;
const loadUndici = () => (undici ??= import('undici'));

const dispatchers = new Map<string, Dispatcher>();

/** One dispatcher per proxy URL, so tests that change the environment get a fresh one. */
export async function sharedDispatcher(env: NodeJS.ProcessEnv = process.env): Promise<Dispatcher> {
  const { Agent, ProxyAgent } = await loadUndici();
  const proxy = proxyFromEnv(env);
  const key = proxy ?? 'direct';
  let d = dispatchers.get(key);
  if (!d) {
    // CONNECT tunnelling (the default) works for http:// targets as well and is what the
    // sandbox proxies filter on (host:port of the CONNECT line).
    d = proxy ? new ProxyAgent({ uri: proxy }) : new Agent();
    dispatchers.set(key, d);
  }
  return d;
}

/** A WHATWG-compatible fetch that honours the sandbox proxy; hand it to SDKs as `fetch`. */
export const proxiedFetch = (async (input: string | URL | Request, init?: RequestInit) => {
  const { fetch: undiciFetch } = await loadUndici();
  return undiciFetch(input as Parameters<Undici['fetch']>[0], {
    ...(init as Parameters<Undici['fetch']>[1]),
    dispatcher: await sharedDispatcher(),
  });
}) as unknown as typeof fetch;

/** For tests and short-lived processes: close pooled sockets so the event loop can exit. */
export async function closeDispatchers(): Promise<void> {
  const all = [...dispatchers.values()];
  dispatchers.clear();
  await Promise.allSettled(all.map((d) => d.close()));
}
