import Anthropic from '@anthropic-ai/sdk';
import { execFile } from 'node:child_process';
import { chmod, mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildRunnerBundle } from '../src/session/runner/bundle';
import { BETA, type Standin, startStandin } from './support/managed-agents-standin';

// The stand-in is driven here by the installed SDK's own client code: its work resource, its
// SessionToolRunner (inside our session runner), its error classes. Our own assumptions enter
// only through the stand-in, whose behaviours cite the SDK file or contract line they come from.
describe('Managed Agents stand-in, driven by the SDK client', () => {
  let api: Standin;
  let envClient: Anthropic;

  beforeAll(async () => {
    api = await startStandin({ ttlSeconds: 20 });
    envClient = new Anthropic({ apiKey: null, authToken: api.environmentKey, baseURL: api.url, maxRetries: 0 });
  });
  afterAll(() => api?.close());

  const tokenClient = (workId: string) =>
    new Anthropic({ apiKey: null, authToken: api.work(workId).sessionsToken, baseURL: api.url, maxRetries: 0 });

  it('polls without acking, redelivers an un-acked item after reclaim_older_than_ms, then leases it', async () => {
    const { workId, sessionId } = api.addSession(['true']);
    const work = envClient.beta.environments.work;
    const first = await work.poll(api.environmentId, { block_ms: 500, reclaim_older_than_ms: 300 });
    expect(first?.id).toBe(workId);
    expect(first?.data).toEqual({ type: 'session', id: sessionId });
    // base64url JSON with the sessions token, not the token itself.
    const secret = JSON.parse(Buffer.from(first!.secret!, 'base64url').toString('utf8'));
    expect(secret.sessions_token).toMatch(/^sk-ant-req-/);
    // Not acked: invisible until the reclaim age passes, then delivered again.
    expect(await work.poll(api.environmentId, { block_ms: 100, reclaim_older_than_ms: 60_000 })).toBeNull();
    await new Promise((r) => setTimeout(r, 400));
    expect((await work.poll(api.environmentId, { block_ms: 100, reclaim_older_than_ms: 300 }))?.id).toBe(workId);

    await work.ack(workId, { environment_id: api.environmentId });
    expect(api.work(workId).state).toBe('starting');
    const tok = tokenClient(workId).beta.environments.work;
    const hb1 = await tok.heartbeat(workId, { environment_id: api.environmentId, expected_last_heartbeat: 'NO_HEARTBEAT' });
    expect(hb1).toMatchObject({ type: 'work_heartbeat', state: 'active', lease_extended: true, ttl_seconds: 20 });
    const hb2 = await tok.heartbeat(workId, { environment_id: api.environmentId, expected_last_heartbeat: hb1.last_heartbeat });
    // A stale echo: 412 with the server's lease in error.details.current_state (worker.ts serverLeaseState).
    const stale = await tok.heartbeat(workId, { environment_id: api.environmentId, expected_last_heartbeat: hb1.last_heartbeat }).catch((e) => e);
    expect(stale).toBeInstanceOf(Anthropic.APIError);
    expect(stale.status).toBe(412);
    expect(stale.error.error.details.current_state.last_heartbeat).toBe(hb2.last_heartbeat);

    api.requestStop(workId);
    const hb3 = await tok.heartbeat(workId, { environment_id: api.environmentId, expected_last_heartbeat: hb2.last_heartbeat });
    expect(hb3).toMatchObject({ state: 'stopping', lease_extended: false });
    await tok.stop(workId, { environment_id: api.environmentId, force: true });
    const again = await tok.stop(workId, { environment_id: api.environmentId, force: true }).catch((e) => e);
    expect(again.status).toBe(409);
    expect(api.work(workId).stops).toEqual([{ force: true, auth: 'session' }]);
  });

  it('refuses what the real API refuses: no beta header, x-api-key, a sessions token for polling or another session', async () => {
    const a = api.addSession(['true']);
    const b = api.addSession(['true']);
    const noBeta = await fetch(`${api.url}/v1/environments/${api.environmentId}/work/poll`, { headers: { authorization: `Bearer ${api.environmentKey}` } });
    expect(noBeta.status).toBe(400);
    const apiKey = await fetch(`${api.url}/v1/environments/${api.environmentId}/work/poll`, { headers: { 'x-api-key': api.environmentKey, 'anthropic-beta': BETA } });
    expect(apiKey.status).toBe(401);
    expect((await tokenClient(a.workId).beta.environments.work.poll(api.environmentId).catch((e) => e)).status).toBe(403);
    expect((await tokenClient(a.workId).beta.sessions.retrieve(b.sessionId).catch((e) => e)).status).toBe(403);
    expect((await tokenClient(a.workId).beta.sessions.retrieve(a.sessionId)).status).toBe('running');
    expect((await envClient.beta.environments.work.poll(api.environmentId, { block_ms: 5000 }).catch((e) => e)).status).toBe(400);
    // A tool result must answer a tool use of this session.
    const bad = await tokenClient(a.workId)
      .beta.sessions.events.send(a.sessionId, { events: [{ type: 'user.tool_result', tool_use_id: 'sevt_nope', is_error: false, content: [] }] })
      .catch((e) => e);
    expect(bad.status).toBe(400);
    expect(bad.message).toContain('tool_use_id');
  });

  it('pages the event history and streams one tool call at a time to the session runner', async () => {
    const script = ['echo one; echo "$BULKHEAD_TOOL_USE_ID"', 'env | grep -c ^ANTHROPIC_ || true', 'exit 3'];
    const { workId, sessionId } = api.addSession(script);
    // The list is paged (PageCursor: next_page / page); the SDK walks every page.
    const pages = await tokenClient(workId).beta.sessions.events.list(sessionId, { limit: 1 });
    expect(pages.data).toHaveLength(1);
    const all = [];
    for await (const ev of tokenClient(workId).beta.sessions.events.list(sessionId, { limit: 1 })) all.push(ev);
    expect(all.map((e) => e.type)).toEqual(api.events(sessionId).map((e) => e.type));

    const runner = await buildRunnerBundle();
    const dir = await mkdtemp(path.join(tmpdir(), 'bh-runner-'));
    const secretFile = path.join(dir, 'secret');
    await writeFile(secretFile, api.work(workId).secret, { mode: 0o600 });
    await chmod(secretFile, 0o600);
    const out = await new Promise<{ code: number; stderr: string; stdout: string }>((resolve) =>
      execFile(
        process.execPath,
        [runner, '--session-id', sessionId, '--work-secret-file', secretFile, '--workdir', dir, '--max-idle-ms', '500'],
        { env: { PATH: process.env.PATH, ANTHROPIC_BASE_URL: api.url, ANTHROPIC_ENVIRONMENT_KEY: 'must-not-leak' } },
        (err, stdout, stderr) => resolve({ code: err ? Number(err.code) : 0, stdout, stderr }),
      ),
    );
    expect(out.code, out.stderr).toBe(0);
    const calls = api.calls(sessionId);
    expect(calls.map((c) => c.command)).toEqual(script);
    // One at a time: each call was delivered only after the previous one's result.
    for (let i = 1; i < calls.length; i++) expect(calls[i]!.deliveredAt).toBeGreaterThanOrEqual(calls[i - 1]!.answeredAt!);
    expect(calls[0]!.text).toBe(`one\n${calls[0]!.toolUseId}\n`);
    expect(calls[1]!.text?.trim()).toBe('0');
    expect(calls[2]!.isError).toBe(true);
    expect(api.late()).toEqual([]);
    expect(JSON.parse(out.stdout)).toEqual({ calls: 3 });
  });

  it('cuts a tool call at 120 s (the SDK runner), posts it as an error in time, and kills what the command started', async () => {
    const marker = `bh-cut-${Date.now()}`;
    // A background child and a foreground sleep: both must go when the call is cut.
    const { workId, sessionId } = api.addSession([`sleep 600 & exec -a ${marker} sleep 600`]);
    const runner = await buildRunnerBundle();
    const dir = await mkdtemp(path.join(tmpdir(), 'bh-runner-'));
    const secretFile = path.join(dir, 'secret');
    await writeFile(secretFile, api.work(workId).secret, { mode: 0o600 });
    const t0 = Date.now();
    const out = await new Promise<{ code: number; stderr: string }>((resolve) =>
      execFile(
        process.execPath,
        [runner, '--session-id', sessionId, '--work-secret-file', secretFile, '--workdir', dir, '--max-idle-ms', '500'],
        { env: { PATH: process.env.PATH, ANTHROPIC_BASE_URL: api.url } },
        (err, _stdout, stderr) => resolve({ code: err ? Number(err.code) : 0, stderr }),
      ),
    );
    expect(out.code, out.stderr).toBe(0);
    const [call] = api.calls(sessionId);
    expect(call!.isError).toBe(true);
    expect(call!.text).toContain('cut off');
    const took = call!.answeredAt! - call!.deliveredAt;
    // Cut by the runner at 120 s and posted right after (the brain is not left waiting).
    expect(took).toBeGreaterThanOrEqual(119_000);
    expect(took).toBeLessThan(130_000);
    expect(Date.now() - t0).toBeLessThan(200_000);
    const left = await new Promise<string>((resolve) => execFile('pgrep', ['-f', marker], (_e, stdout) => resolve(stdout.trim())));
    expect(left).toBe('');
  }, 240_000);
});
