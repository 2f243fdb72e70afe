import { Agent, ProxyAgent, fetch, type Dispatcher } from 'undici';
import { proxyFromEnv } from '../agents/http';

export interface DispatchResult {
  /**
   * 0 summary printed, 1 the specialist failed or the endpoint is unreachable, 2 bad request,
   * 75 (EX_TEMPFAIL) still running: the handle is printed, `dispatch --wait HANDLE` continues.
   */
  exitCode: 0 | 1 | 2 | 75;
  stdout: string;
  stderr: string;
}

const USAGE = 'usage: dispatch AGENT "TASK" | dispatch --wait HANDLE   (agents: metrics_agent, log_agent, runbook_agent)';

/**
 * `dispatch AGENT "TASK"`, the drop-in for the seed's `python3 dispatch.py AGENT "TASK"`: asks
 * this session's dispatch endpoint for a specialist and returns its redacted summary. Inside the
 * session sandbox the only way out is the proxy in HTTP(S)_PROXY (even to 127.0.0.1, whatever
 * NO_PROXY says), so requests go through it when it is set.
 */
export async function runDispatch(args: string[], env: NodeJS.ProcessEnv): Promise<DispatchResult> {
  const [agent, ...rest] = args;
  const task = rest.join(' ');
  if (!agent || !task.trim()) return { exitCode: 2, stdout: '', stderr: `${USAGE}\n` };
  const waiting = agent === '--wait';
  if (waiting && rest.length !== 1) return { exitCode: 2, stdout: '', stderr: `${USAGE}\n` };
  const url = env.BULKHEAD_DISPATCH_URL;
  const token = env.BULKHEAD_DISPATCH_TOKEN;
  if (!url || !token) {
    return { exitCode: 2, stdout: '', stderr: 'BULKHEAD_DISPATCH_URL, BULKHEAD_DISPATCH_TOKEN: not set (dispatch runs inside a Managed Agents session)\n' };
  }
  const proxy = proxyFromEnv(env);
  // A specialist can take minutes; undici's default 300 s header timeout must not cut it off.
  const dispatcher: Dispatcher = proxy
    ? new ProxyAgent({ uri: proxy, headersTimeout: 0, bodyTimeout: 0 })
    : new Agent({ headersTimeout: 0, bodyTimeout: 0 });
  try {
    // The bash tool names the call it runs in: a re-delivered call then joins its specialists.
    const body = waiting ? { handle: task } : { agent, task, ...(env.BULKHEAD_TOOL_USE_ID ? { toolUseId: env.BULKHEAD_TOOL_USE_ID } : {}) };
    const res = await fetch(waiting ? `${url}/wait` : url, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: JSON.stringify(body),
      dispatcher,
    });
    const text = await res.text();
    let reply: { ok?: boolean; summary?: string; error?: string; pending?: boolean; handle?: string };
    try {
      reply = JSON.parse(text);
    } catch {
      return { exitCode: 1, stdout: '', stderr: `dispatch: endpoint answered ${res.status} without JSON\n` };
    }
    if (res.status === 202 && reply.pending && reply.handle) {
      const what = waiting ? 'the specialist' : agent;
      return { exitCode: 75, stdout: `PENDING ${reply.handle}\n${what} is still running; continue with: dispatch --wait ${reply.handle}\n`, stderr: '' };
    }
    if (res.ok && reply.ok && typeof reply.summary === 'string') {
      return { exitCode: 0, stdout: reply.summary.endsWith('\n') ? reply.summary : `${reply.summary}\n`, stderr: '' };
    }
    const code = res.status === 400 || res.status === 413 ? 2 : 1;
    return { exitCode: code, stdout: '', stderr: `dispatch ${agent}: ${reply.error ?? `HTTP ${res.status}`}\n` };
  } catch (e) {
    const cause = (e as { cause?: Error }).cause;
    return { exitCode: 1, stdout: '', stderr: `dispatch: cannot reach the dispatch endpoint: ${cause?.message ?? (e as Error).message}\n` };
  } finally {
    await dispatcher.close().catch(() => undefined);
  }
}
