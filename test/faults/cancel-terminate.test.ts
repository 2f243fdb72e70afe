/**
 * `temporal workflow cancel` runs the cleanup code: every sandbox is gone within seconds.
 * `temporal workflow terminate` runs none: the sandboxes stay until the reaper (the function, and
 * `bulkhead sandbox reap`) deletes them, while it keeps those a running investigation owns.
 */
import { execFile, spawn } from 'node:child_process';
import { mkdtemp, readdir } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LocalDriver } from '../../src/sandbox/local';
import { reapOrphans } from '../../src/sandbox/reap';
import { omFilesOf } from '../../src/stack/prometheus';
import { REPO_ROOT, temporalBin } from '../../src/stack/tools';
import { investigationProgress } from '../../src/workflows/progress';
import { withFaults } from '../support/faulty-driver';
import { SCENARIO_DIR } from '../support/process-stack';
import { until } from '../support/until';
import { startTestStack, type TestStack } from '../support/worker';

const run = promisify(execFile);

describe('cancel and terminate', () => {
  let stack: TestStack;
  beforeAll(async () => {
    // Every agent run hangs, so the investigations sit with live sandboxes until we act.
    stack = await startTestStack({
      omFiles: await omFilesOf(SCENARIO_DIR),
      runTimeoutSeconds: 240,
      wrapDriver: (d) => withFaults(d, { hangRuns: 1_000 }).driver,
    });
  });
  afterAll(() => stack?.stop());

  const temporal = (...args: string[]) => run(temporalBin(), [...args, '--address', stack.config.TEMPORAL_ADDRESS!]);
  /** Starts an investigation and waits until both first-turn specialists sit in their runs. */
  async function running(id: string) {
    const handle = await stack.client.workflow.start('investigateIncident', { taskQueue: stack.taskQueue, workflowId: id, args: [{ scenarioDir: SCENARIO_DIR }] });
    await until(async () => {
      const p = await handle.query(investigationProgress).catch(() => null);
      return !!p && p.specialists.length === 2 && p.specialists.every((s) => s.step === 'run');
    }, 90_000, `${id} running`);
    return handle;
  }
  const sandboxesOf = async (id: string) => {
    const mine = new Set<string>();
    for await (const wf of stack.client.workflow.list({ query: `WorkflowId STARTS_WITH "${id}/"` })) {
      for (const b of (wf.searchAttributes?.BulkheadSandbox as string[] | undefined) ?? []) mine.add(b);
    }
    return (await stack.local.list()).filter((s) => mine.has(s.id.replace(/-\d+$/, ''))).map((s) => s.id);
  };

  it('after `temporal workflow cancel` every sandbox is deleted within seconds', async () => {
    const id = `incident-cancel-${Date.now()}`;
    const handle = await running(id);
    expect(await sandboxesOf(id)).toHaveLength(2);
    await temporal('workflow', 'cancel', '--workflow-id', id);
    await until(async () => (await stack.local.list()).length === 0, 30_000, 'sandboxes deleted after cancel');
    await until(async () => (await handle.describe()).status.name === 'CANCELLED', 30_000, 'cancelled');
  });

  it('after `temporal workflow terminate` the reaper deletes the orphans and keeps the live ones', async () => {
    const ids = [`incident-term-a-${Date.now()}`, `incident-term-b-${Date.now()}`, `incident-live-${Date.now()}`];
    const [a, , live] = await Promise.all(ids.map(running));
    const liveSandboxes = (await sandboxesOf(ids[2]!)).sort();
    expect(liveSandboxes).toHaveLength(2);
    const left = async () => (await stack.local.list()).map((s) => s.id).sort();

    // A: terminated, so no cleanup runs and its sandboxes stay; `bulkhead sandbox reap` (what an
    // operator or the reaper Schedule runs) deletes them, with no grace for young sandboxes.
    await temporal('workflow', 'terminate', '--workflow-id', ids[0]!, '--reason', 'fault test');
    expect((await a!.describe()).status.name).toBe('TERMINATED');
    const orphansA = await sandboxesOf(ids[0]!);
    expect(orphansA).toHaveLength(2);
    const cli = await run(process.execPath, [path.join(REPO_ROOT, 'bin/bulkhead.mjs'), 'sandbox', 'reap', '--grace-seconds', '0'], {
      env: { PATH: process.env.PATH, HOME: process.env.HOME, TEMPORAL_ADDRESS: stack.config.TEMPORAL_ADDRESS, BULKHEAD_SANDBOX_ROOT: stack.sandboxRoot },
    });
    expect(cli.stdout).toContain('2 deleted');
    for (const id of orphansA) expect(cli.stdout).toContain(`deleted ${id}`);

    // B: the same through the function; the running investigation's sandboxes are kept each time.
    await temporal('workflow', 'terminate', '--workflow-id', ids[1]!, '--reason', 'fault test');
    const orphansB = await sandboxesOf(ids[1]!);
    expect(orphansB).toHaveLength(2);
    const r = await reapOrphans(stack.local, stack.client, 0, stack.stackId);
    expect(r.deleted.sort()).toEqual(orphansB.sort());
    expect(r.kept.sort()).toEqual(liveSandboxes);
    expect(await left()).toEqual(liveSandboxes);

    await live!.cancel();
    await until(async () => (await left()).length === 0, 30_000, 'sandboxes deleted after cancel');
  });
});

/**
 * Issue 10 finding 7: signals to the real CLI. A model endpoint that never answers keeps every
 * specialist inside its sandbox run, as a slow model does; then the CLI gets SIGTERM, a
 * terminal's Ctrl-C (SIGINT to its whole process group), or two signals in a row.
 */
describe('signals to the CLI', () => {
  let model: Server;
  let modelUrl: string;
  const hits: number[] = [];
  beforeAll(async () => {
    model = createServer((req) => {
      hits.push(Date.now());
      req.resume(); // read the request, never answer
    });
    await new Promise<void>((r) => model.listen(0, '127.0.0.1', r));
    modelUrl = `http://127.0.0.1:${(model.address() as AddressInfo).port}/v1`;
  });
  afterAll(async () => {
    model?.closeAllConnections();
    await new Promise((r) => model?.close(r));
  });

  const untilOr = (check: () => Promise<boolean>, ms: number, what: string, detail: () => string) =>
    until(check, ms, what).catch((e: Error) => {
      throw new Error(`${e.message}\n${detail()}`);
    });

  /** The user's environment minus anything pointing at another stack. */
  const cleanEnv = (extra: Record<string, string>) => {
    const env: NodeJS.ProcessEnv = {};
    for (const [k, v] of Object.entries(process.env)) if (!/^(TEMPORAL_|BULKHEAD_|ANTHROPIC_|PROMETHEUS_URL|LOKI_URL)/.test(k)) env[k] = v;
    return { ...env, ...extra };
  };

  /** Every process below pid, from /proc (children of children included). */
  async function descendants(pid: number): Promise<number[]> {
    const { stdout } = await run('ps', ['-eo', 'pid=,ppid=']);
    const kids = new Map<number, number[]>();
    for (const l of stdout.trim().split('\n')) {
      const [p, pp] = l.trim().split(/\s+/).map(Number) as [number, number];
      kids.set(pp, [...(kids.get(pp) ?? []), p]);
    }
    const out: number[] = [];
    const walk = (p: number) => (kids.get(p) ?? []).forEach((c) => (out.push(c), walk(c)));
    walk(pid);
    return out;
  }
  /** Processes of the tree still running (zombies excluded), with their command lines. */
  const survivors = async (tree: number[]) => {
    const { stdout } = await run('ps', ['-eo', 'pid=,stat=,args=']).catch(() => ({ stdout: '' }));
    const set = new Set(tree);
    return stdout.split('\n').filter((l) => {
      const [pid, stat] = l.trim().split(/\s+/);
      return set.has(Number(pid)) && !stat?.startsWith('Z');
    });
  };
  const alive = (pid: number) => {
    try {
      process.kill(pid, 0);
      return true;
    } catch {
      return false;
    }
  };

  function spawnCli(args: string[], env: NodeJS.ProcessEnv) {
    // Its own process group, as a shell gives a foreground job, so a "Ctrl-C" can reach all of it.
    const child = spawn(process.execPath, [path.join(REPO_ROOT, 'bin/bulkhead.mjs'), ...args], { cwd: REPO_ROOT, env, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout!.on('data', (c: Buffer) => (out += c.toString()));
    child.stderr!.on('data', (c: Buffer) => (out += c.toString()));
    const exited = new Promise<number | null>((r) => child.on('close', (code, sig) => r(code ?? (sig ? -1 : null))));
    return { child, exited, out: () => out };
  }

  async function investigateThenSignal(send: (pid: number) => void, name: string) {
    const root = await mkdtemp(path.join(tmpdir(), `bh-sbx-h-inputs-sig-${name}-`));
    const out = await mkdtemp(path.join(tmpdir(), 'bh-sig-out-'));
    const local = new LocalDriver({ root });
    const seen = hits.length;
    const cli = spawnCli(['investigate', '--scenario', SCENARIO_DIR, '--out', out], cleanEnv({
      BULKHEAD_SANDBOX_ROOT: root,
      BULKHEAD_MODEL_URL: modelUrl,
      BULKHEAD_MODEL: 'slow-model',
      BULKHEAD_MODEL_TIMEOUT_MS: '600000',
      BULKHEAD_MODEL_RETRIES: '0',
      BULKHEAD_MODEL_BUDGET_MS: '600000',
    }));
    // Mid-run: sandboxes exist and at least one specialist waits on the model inside its sandbox.
    await untilOr(async () => hits.length > seen && (await local.list()).length > 0, 150_000, `${name}: specialists running`, () => cli.out().slice(-3000));
    const tree = await descendants(cli.child.pid!);
    expect((await local.list()).length).toBeGreaterThan(0);
    send(cli.child.pid!);
    return { cli, root, out, local, tree };
  }

  it('SIGTERM cancels, waits for every delete, stops the stack, and says so truthfully', async () => {
    const { cli, local, tree, out } = await investigateThenSignal((pid) => process.kill(pid, 'SIGTERM'), 'term');
    const code = await cli.exited;
    expect(code, cli.out().slice(-3000)).toBe(143);
    expect(cli.out()).toContain('its sandboxes were deleted');
    expect(await local.list()).toEqual([]);
    expect(await survivors(tree)).toEqual([]);
    expect(await readdir(out)).toEqual([]); // no report from a cancelled run
  }, 300_000);

  it('Ctrl-C (SIGINT to the whole process group) does the same', async () => {
    const { cli, local, tree } = await investigateThenSignal((pid) => process.kill(-pid, 'SIGINT'), 'int');
    const code = await cli.exited;
    expect(code, cli.out().slice(-3000)).toBe(130);
    expect(cli.out()).toContain('its sandboxes were deleted');
    expect(await local.list()).toEqual([]);
    expect(await survivors(tree)).toEqual([]);
  }, 300_000);

  it('a second signal stops at once and still removes the sandboxes it created', async () => {
    const { cli, local, tree } = await investigateThenSignal((pid) => {
      process.kill(pid, 'SIGINT');
      setTimeout(() => process.kill(pid, 'SIGINT'), 200);
    }, 'twice');
    const code = await cli.exited;
    expect(code, cli.out().slice(-3000)).toBe(130);
    expect(cli.out()).toContain('second signal');
    expect(await local.list()).toEqual([]);
    await until(async () => tree.filter(alive).length === 0, 15_000, 'helpers gone');
  }, 300_000);

  it('with TEMPORAL_ADDRESS, SIGTERM cancels the remote investigation and waits for its cleanup', async () => {
    const stack = await startTestStack({
      omFiles: await omFilesOf(SCENARIO_DIR),
      env: { BULKHEAD_MODEL_URL: modelUrl, BULKHEAD_MODEL: 'slow-model', BULKHEAD_MODEL_TIMEOUT_MS: '600000', BULKHEAD_MODEL_RETRIES: '0', BULKHEAD_MODEL_BUDGET_MS: '600000' },
    });
    try {
      const seen = hits.length;
      const out = await mkdtemp(path.join(tmpdir(), 'bh-sig-out-'));
      const cli = spawnCli(['investigate', '--scenario', SCENARIO_DIR, '--out', out], cleanEnv({
        TEMPORAL_ADDRESS: stack.config.TEMPORAL_ADDRESS!,
        BULKHEAD_TASK_QUEUE: stack.taskQueue,
      }));
      await untilOr(async () => hits.length > seen && (await stack.local.list()).length > 0, 150_000, 'remote specialists running', () => cli.out().slice(-3000));
      process.kill(cli.child.pid!, 'SIGTERM');
      expect(await cli.exited, cli.out().slice(-3000)).toBe(143);
      expect(cli.out()).toContain('its specialists finished their cleanup');
      // The worker is not ours: its deletes ran before the CLI said so.
      expect(await stack.local.list()).toEqual([]);
    } finally {
      await stack.stop();
    }
  }, 300_000);

  it.each([
    ['SIGINT', 130],
    ['SIGTERM', 143],
  ] as const)('`sandbox run` deletes its sandbox on %s', async (sig, expected) => {
    const root = await mkdtemp(path.join(tmpdir(), 'bh-sbx-h-inputs-run-'));
    const local = new LocalDriver({ root });
    const cli = spawnCli(['sandbox', 'run', '--agent', 'log_agent', '--', process.execPath, '-e', 'setTimeout(() => {}, 300000)'], cleanEnv({ BULKHEAD_SANDBOX_ROOT: root }));
    await untilOr(async () => /policy log_agent/.test(cli.out()) && (await local.list()).length === 1, 60_000, 'sandbox running', () => cli.out());
    const tree = await descendants(cli.child.pid!);
    process.kill(-cli.child.pid!, sig);
    expect(await cli.exited, cli.out()).toBe(expected);
    expect(cli.out()).toMatch(/sandbox bh-c-[\w-]+ deleted/);
    expect(await local.list()).toEqual([]);
    await until(async () => tree.filter(alive).length === 0, 15_000, 'sandbox processes gone');
  }, 120_000);
});
