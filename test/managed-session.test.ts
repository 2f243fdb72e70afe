import { readdir } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type AgentsRig, agentsRig, historyText, type WorkerProc } from './support/agents';
import { type Standin, startStandin } from './support/managed-agents-standin';
import { until } from './support/until';

const PARALLEL =
  'dispatch metrics_agent "p99 latency of checkout-service" & dispatch log_agent "top errors since 14:28" & dispatch runbook_agent "past incidents like pool exhaustion" & wait';
// What the brain's bash can see of the environment key: its variable, any process's environ,
// files under the usual places. The key itself is not in the command (it would be in the script).
const KEY_PROBE = 'echo "key:${ANTHROPIC_ENVIRONMENT_KEY:-unset}"; grep -l "sk-ant-oat01" /proc/[0-9]*/environ $HOME/* /tmp/* 2>/dev/null | head -3; ls ../run; echo END';

/** CONNECT through the sandbox's proxy (its only way out) to each target; prints "target status". */
const reach = (targets: string[]) =>
  `node -e 'const http=require("http");const p=new URL(process.env.HTTPS_PROXY||process.env.HTTP_PROXY);const h=p.username?{"proxy-authorization":"Basic "+Buffer.from(decodeURIComponent(p.username)+":"+decodeURIComponent(p.password)).toString("base64")}:{};for(const t of process.argv.slice(1)){const r=http.request({host:p.hostname,port:p.port,method:"CONNECT",path:t,headers:h,timeout:5000});r.on("connect",(res,s)=>{console.log(t,res.statusCode);s.destroy()});r.on("error",()=>console.log(t,"error"));r.on("timeout",()=>{console.log(t,"timeout");r.destroy()});r.end()}' ${targets.join(' ')}`;

describe('bulkhead agents-worker against the Managed Agents stand-in', () => {
  let api: Standin;
  let rig: AgentsRig;
  let worker: WorkerProc;

  beforeAll(async () => {
    api = await startStandin();
    rig = await agentsRig(api);
    worker = rig.startWorker();
  });
  afterAll(async () => {
    await rig?.close();
    await api?.close();
  });

  it('serves a session: three specialists in one command, then one more; results on the right tool_use ids; everything cleaned up', async () => {
    const apiHost = new URL(api.url).host;
    const REACH = reach([apiHost, rig.env.TEMPORAL_ADDRESS!, '1.1.1.1:443']);
    const { workId, sessionId } = api.addSession([PARALLEL, 'bulkhead dispatch log_agent "NullPointerException counts"', KEY_PROBE, 'dispatch payments_agent "anything"', REACH]);
    const wfId = `work-${workId}`;
    await until(async () => api.work(workId).state === 'stopped', 240_000, `work stopped (worker output: ${worker.output()})`);
    const out = await rig.client.workflow.getHandle(wfId).result();
    expect(out).toMatchObject({ workId, sessionId, end: 'runner_done', stopped: true, sandbox: { deleted: true } });
    expect(out.dispatches.map((d: { agent: string }) => d.agent).sort()).toEqual(['log_agent', 'log_agent', 'metrics_agent', 'runbook_agent']);

    const calls = api.calls(sessionId);
    expect(calls.map((c) => c.command)).toEqual([PARALLEL, 'bulkhead dispatch log_agent "NullPointerException counts"', KEY_PROBE, 'dispatch payments_agent "anything"', REACH]);
    // Every result was posted on its own tool_use id (the stand-in refuses any other), in time.
    expect(calls.every((c) => c.answeredAt !== null)).toBe(true);
    expect(api.late()).toEqual([]);
    const [par, last, probe, bad, reached] = calls;
    // Reach: the API host, yes; Temporal and anything else, no (the dispatch endpoint is proven above).
    const verdicts = Object.fromEntries(reached!.text!.trim().split('\n').map((l) => l.split(' ') as [string, string]));
    expect(verdicts[apiHost]).toBe('200');
    expect(verdicts[rig.env.TEMPORAL_ADDRESS!]).not.toBe('200');
    expect(verdicts['1.1.1.1:443']).not.toBe('200');
    expect(Object.keys(verdicts)).toHaveLength(3);
    for (const [agent, task] of [
      ['metrics_agent', 'p99 latency of checkout-service'],
      ['log_agent', 'top errors since 14:28'],
      ['runbook_agent', 'past incidents like pool exhaustion'],
    ]) {
      expect(par!.text).toContain(`${agent} looked at: ${task}`);
    }
    expect(par!.isError).toBe(false);
    expect(last!.text).toContain('log_agent looked at: NullPointerException counts');
    // Summaries are redacted on the worker's side before they reach the brain.
    expect(par!.text! + last!.text!).not.toContain('alice@example.com');
    expect(bad!.isError).toBe(true);
    expect(bad!.text).toContain('unknown agent');
    // The environment key is nowhere the brain's bash can look; the work secret file is gone.
    // (run/ holds only the runner's pid: the secret file was read once and removed.)
    expect(probe!.text).toBe('key:unset\nrunner.pid\nEND\n');
    for (const c of calls) expect(c.text).not.toContain(api.environmentKey);

    // The three dispatches of one command ran as overlapping children.
    const spans = await Promise.all(
      ['metrics_agent-1', 'log_agent-1', 'runbook_agent-1'].map(async (s) => {
        const d = await rig.client.workflow.getHandle(`${wfId}/${s}`).describe();
        return [d.startTime.getTime(), d.closeTime!.getTime()] as const;
      }),
    );
    expect(Math.max(...spans.map((x) => x[0]))).toBeLessThan(Math.min(...spans.map((x) => x[1])));

    // Lease: acked with the environment key, then heartbeats and the stop with the sessions token.
    const w = api.work(workId);
    expect(w.acked).toBe(1);
    expect(w.heartbeats).toBeGreaterThanOrEqual(1);
    expect(w.stops).toEqual([{ force: true, auth: 'session' }]);
    const envKeyUses = new Set(api.log.filter((l) => l.auth === 'env').map((l) => l.path.split('/').pop()));
    expect([...envKeyUses].sort()).toEqual(['ack', 'poll', 'stats']);

    expect(await rig.local.list()).toEqual([]);
    expect(await readdir(path.join(rig.stateDir, 'work'))).toEqual([]);
    for (const id of [wfId, `agents-poll-${api.environmentId}`, ...['metrics_agent-1', 'log_agent-1', 'log_agent-2', 'runbook_agent-1'].map((s) => `${wfId}/${s}`)]) {
      const text = await historyText(rig.client, id);
      expect(text).not.toContain(api.environmentKey);
      expect(text).not.toContain(w.sessionsToken);
      expect(text).not.toContain(w.secret);
    }
  }, 300_000);
});

/** Executions of one workflow id (a duplicate session would be a second one). */
async function executions(rig: AgentsRig, workflowId: string): Promise<number> {
  let n = 0;
  for await (const _ of rig.client.workflow.list({ query: `WorkflowId = "${workflowId}"` })) n++;
  return n;
}

async function childIds(rig: AgentsRig, parent: string): Promise<string[]> {
  const ids: string[] = [];
  for await (const wf of rig.client.workflow.list({ query: `WorkflowType = "runSpecialist" AND WorkflowId STARTS_WITH "${parent}/"` })) ids.push(wf.workflowId);
  return ids.sort();
}

/** The attempt that finished the session runner: 2 or more when a worker died in the middle. */
async function runnerAttempt(rig: AgentsRig, workflowId: string): Promise<number> {
  const h = await rig.client.workflow.getHandle(workflowId).fetchHistory();
  const events = h.events ?? [];
  const i = events.findIndex((e) => e.activityTaskScheduledEventAttributes?.activityType?.name === 'runSessionAgent');
  const started = events.find((e) => e.activityTaskStartedEventAttributes && Number(e.activityTaskStartedEventAttributes.scheduledEventId) === Number(events[i]!.eventId));
  return started?.activityTaskStartedEventAttributes?.attempt ?? 0;
}

/** How many times a specialist's agent was started in a sandbox (its runAgent activities). */
async function agentRuns(rig: AgentsRig, workflowId: string): Promise<number> {
  const h = await rig.client.workflow.getHandle(workflowId).fetchHistory();
  return (h.events ?? []).filter((e) => e.activityTaskScheduledEventAttributes?.activityType?.name === 'runAgent').length;
}

describe('agents-worker configuration errors', () => {
  let api: Standin;
  let rig: AgentsRig;
  beforeAll(async () => {
    api = await startStandin();
    rig = await agentsRig(api);
  });
  afterAll(async () => {
    await rig?.close();
    await api?.close();
  });

  it.each([
    ['ANTHROPIC_ENVIRONMENT_KEY', { ANTHROPIC_ENVIRONMENT_KEY: 'sk-ant-oat01-wrong' }],
    ['ANTHROPIC_ENVIRONMENT_ID', { ANTHROPIC_ENVIRONMENT_ID: 'env_unknown' }],
    ['ANTHROPIC_ENVIRONMENT_KEY', { ANTHROPIC_ENVIRONMENT_KEY: '' }],
  ])('exits 2 naming %s before polling anything', async (field, change) => {
    Object.assign(rig.env, change);
    const w = rig.startWorker();
    expect(await w.exit).toBe(2);
    expect(w.output()).toContain(field);
    expect(api.log.filter((l) => l.path.endsWith('/work/poll'))).toEqual([]);
    Object.assign(rig.env, { ANTHROPIC_ENVIRONMENT_KEY: api.environmentKey, ANTHROPIC_ENVIRONMENT_ID: api.environmentId });
  });
});

describe('SIGKILL of agents-worker: the session completes once, nothing re-run, nothing left behind', () => {
  let api: Standin;
  let rig: AgentsRig;

  beforeAll(async () => {
    api = await startStandin();
    rig = await agentsRig(api);
  });
  afterAll(async () => {
    await rig?.close();
    await api?.close();
  });

  /** Kills a worker when `when` holds, then lets a fresh one finish the session. */
  async function killAndResume(script: string[], when: (workId: string, sessionId: string) => Promise<boolean> | boolean, before?: () => void) {
    before?.();
    const first = rig.startWorker();
    const { workId, sessionId } = api.addSession(script);
    await until(() => when(workId, sessionId), 180_000, `kill point (worker output: ${first.output()})`);
    const killedAt = Date.now();
    first.proc.kill('SIGKILL');
    await first.exit;
    api.holdAcks = false;
    const second = rig.startWorker();
    await until(() => api.work(workId).state === 'stopped', 300_000, `work stopped (second worker: ${second.output()})`);
    console.log(`resumed and finished ${Math.round((Date.now() - killedAt) / 1000)} s after the kill`);
    const wfId = `work-${workId}`;
    const out = await rig.client.workflow.getHandle(wfId).result();
    second.proc.kill('SIGTERM');
    await second.exit;
    expect(await executions(rig, wfId)).toBe(1);
    expect(out).toMatchObject({ end: 'runner_done', stopped: true, sandbox: { deleted: true } });
    const calls = api.calls(sessionId);
    expect(calls.map((c) => c.command)).toEqual(script);
    expect(calls.every((c) => c.answeredAt !== null && c.isError === false)).toBe(true);
    await until(async () => (await rig.local.list()).length === 0, 60_000, 'every sandbox deleted');
    return { workId, sessionId, wfId, calls };
  }

  it('before the ack: the queue redelivers the item and the same workflow acks it once', async () => {
    const { workId } = await killAndResume(
      ['dispatch log_agent "top errors since 14:28"'],
      (w) => api.log.some((l) => l.path.endsWith(`/work/${w}/ack`)),
      () => (api.holdAcks = true),
    );
    expect(api.work(workId).acked).toBe(1);
    expect(api.work(workId).pollCount).toBeGreaterThanOrEqual(2);
  }, 300_000);

  it('after the ack: the workflow resumes the lease and the session on the next worker', async () => {
    const { workId, calls, wfId } = await killAndResume(['sleep 2; echo first', 'dispatch runbook_agent "past incidents like pool exhaustion"'], (w, s) => api.work(w).state === 'active' && api.log.some((l) => l.path === `/v1/sessions/${s}/events/stream`));
    expect(api.work(workId).acked).toBe(1);
    expect(calls[0]!.text).toBe('first\n');
    expect(await runnerAttempt(rig, wfId)).toBeGreaterThanOrEqual(2);
    expect(calls[1]!.text).toContain('runbook_agent looked at: past incidents like pool exhaustion');
  }, 300_000);

  it('mid-dispatch: the re-delivered tool call joins its specialists; a finished one is not re-run', async () => {
    const both = 'dispatch metrics_agent "SLOW p99 latency" & dispatch log_agent "SLOW error counts" & wait';
    const { wfId, calls } = await killAndResume(['dispatch log_agent "first look"', both], async (_w, s) => {
      if (api.calls(s).length < 2) return false;
      const d = await rig.client.workflow.getHandle(`work-${_w}/metrics_agent-1`).describe().catch(() => null);
      return d?.status.name === 'RUNNING';
    });
    expect(await childIds(rig, wfId)).toEqual(['log_agent-1', 'log_agent-2', 'metrics_agent-1'].map((s) => `${wfId}/${s}`));
    expect(await agentRuns(rig, `${wfId}/log_agent-1`)).toBe(1);
    expect(await runnerAttempt(rig, wfId)).toBeGreaterThanOrEqual(2);
    expect(calls[1]!.text).toContain('metrics_agent looked at: SLOW p99 latency');
    expect(calls[1]!.text).toContain('log_agent looked at: SLOW error counts');
  }, 300_000);
});

describe('dispatch under the 120 s cut of a tool call', () => {
  let api: Standin;
  let rig: AgentsRig;
  let worker: WorkerProc;

  beforeAll(async () => {
    api = await startStandin();
    // The wait before a handle is 85 s in production; 1.5 s here against a 6 s specialist.
    rig = await agentsRig(api, { BULKHEAD_DISPATCH_WAIT_MS: '1500' });
    worker = rig.startWorker();
  });
  afterAll(async () => {
    await rig?.close();
    await api?.close();
  });

  it('hands back a handle when the specialist outlasts the wait; `dispatch --wait HANDLE` collects the summary', async () => {
    const { workId, sessionId } = api.addSession([
      'dispatch log_agent "SLOW error counts"; echo "exit=$?"',
      // The brain reads the handle off the previous result, as it would.
      (prev) => `until dispatch --wait ${/PENDING (\S+)/.exec(prev ?? '')?.[1] ?? 'missing'}; [ $? -ne 75 ]; do :; done`,
      'dispatch --wait d-not-a-handle-of-ours; echo "exit=$?"',
    ]);
    await until(() => api.work(workId).state === 'stopped', 240_000, `work stopped (worker output: ${worker.output()})`);
    const [first, second, third] = api.calls(sessionId);
    expect(first!.text).toMatch(/^PENDING d-\S+\nlog_agent is still running; continue with: dispatch --wait d-\S+\nexit=75\n$/);
    expect(second!.isError).toBe(false);
    expect(second!.text).toContain('log_agent looked at: SLOW error counts');
    // One specialist for the two calls: the wait joined it, it did not start another.
    const out = await rig.client.workflow.getHandle(`work-${workId}`).result();
    expect(out.dispatches).toEqual([{ workflowId: `work-${workId}/log_agent-1`, agent: 'log_agent', ok: true }]);
    expect(third!.text).toMatch(/exit=1\n$/);
    expect(await rig.local.list()).toEqual([]);
  }, 300_000);
});
