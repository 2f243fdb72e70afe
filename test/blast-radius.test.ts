import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { loadScenario } from '../src/scenario/load';
import type { AgentName, Sources } from '../src/schemas/agent';
import type { ResolvedPolicy } from '../src/schemas/policy';
import { LocalDriver } from '../src/sandbox/local';
import { ETC_RO, PROXY_DIR_INSIDE } from '../src/sandbox/local/layout';
import { statePaths } from '../src/sandbox/local/state';
import { loadPolicy, resolvePolicy } from '../src/sandbox/policy';
import { REPO_ROOT } from '../src/stack/tools';
import { sandboxBase, sandboxName } from '../src/workflows/ids';
import { hostPids, standIn } from './support/host';
import { until } from './support/until';

// What a compromised (prompt-injected) specialist could do with a shell in its sandbox, for each
// agent, against the real local driver: sandboxes are made the way the workflow makes them
// (the agent's deploy/policies file resolved for the run phase against real endpoints).
const AGENTS: AgentName[] = ['metrics_agent', 'log_agent', 'runbook_agent'];
const scenarioDir = path.join(REPO_ROOT, 'scenarios/checkout-outage');
const CANARY = `bh-blast-canary-${process.pid}`;
const MARKER = `bh-blast-marker-${process.pid}`;
const root = mkdtempSync(path.join(os.tmpdir(), 'bh-blast-'));
// A fake credential in the host's real home, where an operator's would be.
const credDir = path.join(os.homedir(), `.bh-blast-${process.pid}`);
// Canaries where an operator's or another program's state lives: root-only ones (mode 0600 in a
// 0700 dir), and world-readable ones that only the filesystem allow-list keeps out.
const tag = `bh-blast-${process.pid}`;
const PLANT = `bh-blast-planted-${process.pid}`;
const PLANTED = {
  rootOnly: [`/etc/${tag}.conf`, `/var/lib/${tag}/secret`, `/opt/${tag}/secret`],
  public: [`/opt/${tag}-public/notes.txt`, `/var/log/${tag}.log`, `/mnt/${tag}.txt`, `/srv/${tag}.txt`, `/var/lib/${tag}-dev/dev.db`, `/etc/${tag}-public.conf`],
};
const plantedTops = [...PLANTED.rootOnly, ...PLANTED.public].map((f) => (f.startsWith('/etc/') || /^\/(mnt|srv)\/|\.log$/.test(f) ? f : path.dirname(f)));

function plant(): void {
  for (const f of PLANTED.rootOnly) {
    mkdirSync(path.dirname(f), { recursive: true, mode: 0o700 });
    writeFileSync(f, `${PLANT} root-only\n`, { mode: 0o600 });
  }
  for (const f of PLANTED.public) {
    mkdirSync(path.dirname(f), { recursive: true, mode: 0o755 });
    writeFileSync(f, `${PLANT} public\n`, { mode: 0o644 });
  }
}

/** Every TCP port something listens on in the host's network namespace, with an address to reach it. */
function hostListeners(): { host: string; port: number }[] {
  const out = new Map<string, { host: string; port: number }>();
  for (const [file, v6] of [['/proc/net/tcp', false], ['/proc/net/tcp6', true]] as const) {
    let text = '';
    try {
      text = readFileSync(file, 'utf8');
    } catch {
      continue;
    }
    for (const line of text.split('\n').slice(1)) {
      const f = line.trim().split(/\s+/);
      if (f[3] !== '0A') continue;
      const [addrHex, portHex] = f[1]!.split(':') as [string, string];
      const port = parseInt(portHex, 16);
      let host = '127.0.0.1';
      if (!v6 && addrHex !== '00000000') host = addrHex.match(/../g)!.reverse().map((b) => parseInt(b, 16)).join('.');
      if (v6 && !/^0+$/.test(addrHex) && addrHex !== '00000000000000000000000001000000') continue;
      out.set(`${host}:${port}`, { host, port });
    }
  }
  return [...out.values()];
}

let driver: LocalDriver;
let sources: Sources;
let prometheus: Awaited<ReturnType<typeof standIn>>;
let model: Awaited<ReturnType<typeof standIn>>;
const ids = {} as Record<AgentName, string>;
const policies = {} as Record<AgentName, ResolvedPolicy>;

const sh = (agent: AgentName, script: string) => driver.exec(ids[agent], ['/bin/sh', '-c', script], { timeoutMs: 60_000 });
const q = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;

beforeAll(async () => {
  process.env.BULKHEAD_BLAST_CANARY = CANARY;
  plant();
  mkdirSync(path.join(credDir, '.ssh'), { recursive: true });
  writeFileSync(path.join(credDir, 'credentials'), `aws_secret_access_key = ${CANARY}\n`);
  writeFileSync(path.join(credDir, '.ssh', 'id_ed25519'), `${CANARY}\n`);
  [prometheus, model] = await Promise.all([standIn('prometheus-ok'), standIn('model-ok')]);
  ({ sources } = await loadScenario(scenarioDir));
  const targets = { model: model.url, prometheus: prometheus.url };
  driver = new LocalDriver({ root });
  await Promise.all(
    AGENTS.map(async (agent) => {
      const id = sandboxName(sandboxBase(agent, 'incident-blast-radius', `run-${process.pid}`), 0);
      ids[agent] = id;
      policies[agent] = resolvePolicy(await loadPolicy(agent), 'run', targets, sources);
      await driver.create({ id, agent, owner: 'incident-blast-radius', readOnly: policies[agent].readOnly });
      await driver.applyPolicy(id, policies[agent]);
      // Something of this agent's own for the others to try to read.
      writeFileSync(path.join(statePaths(root, id).work, 'findings.txt'), `${CANARY}-${agent}\n`);
    }),
  );
});

afterAll(async () => {
  await driver?.close();
  prometheus?.close();
  model?.close();
  delete process.env.BULKHEAD_BLAST_CANARY;
  rmSync(credDir, { recursive: true, force: true });
  for (const t of plantedTops) rmSync(t, { recursive: true, force: true });
  rmSync(root, { recursive: true, force: true });
});

interface Attempt {
  label: string;
  host: string;
  port: number;
  url: string;
}
interface Outcome {
  label: string;
  mode: string;
  exit: number;
  httpCode: string;
  connectCode: string;
  body: string;
}

/**
 * Each attempt two ways: through the HTTP proxy the sandbox is given, and directly (around the
 * proxy). One shell, one exec: the output is one line per try.
 */
async function tryReach(agent: AgentName, attempts: Attempt[]): Promise<Outcome[]> {
  const modes = {
    http: `--noproxy '' -x "$HTTP_PROXY"`,
    direct: `--noproxy '*'`,
  };
  const lines = attempts.flatMap((a) =>
    Object.entries(modes).map(
      ([mode, flags]) =>
        `b=$(curl -sS --max-time 5 ${flags} -w '\\n%{http_code} %{http_connect}' ${q(a.url)} 2>/dev/null); ` +
        `e=$?; printf '%s|%s|%s|%s\\n' ${q(a.label)} ${mode} $e "$(echo "$b" | tr '\\n' ' ')"`,
    ),
  );
  const r = await sh(agent, lines.join('\n'));
  return r.stdout
    .trim()
    .split('\n')
    .map((l) => {
      const [label, mode, exit, rest] = l.split('|') as [string, string, string, string];
      const parts = rest.trim().split(' ');
      const connectCode = parts.pop() ?? '';
      const httpCode = parts.pop() ?? '';
      return { label, mode, exit: Number(exit), httpCode, connectCode, body: parts.join(' ') };
    });
}

describe.each(AGENTS)('blast radius of %s', (agent) => {
  const others = AGENTS.filter((a) => a !== agent);

  it('reaches what its policy allows, so the refusals below are not vacuous', async () => {
    const allowed: Attempt[] = [{ label: 'model', host: '127.0.0.1', port: model.port, url: `${model.url}/v1/models` }];
    if (agent === 'metrics_agent') allowed.push({ label: 'prometheus', host: '127.0.0.1', port: prometheus.port, url: `${prometheus.url}/api/v1/query` });
    const got = await tryReach(agent, allowed);
    for (const o of got.filter((o) => o.mode !== 'direct')) expect(o, `${o.label} via ${o.mode}`).toMatchObject({ exit: 0, httpCode: '200', body: `${o.label}-ok` });
    const own = agent === 'log_agent' ? sources.logsDir : agent === 'runbook_agent' ? sources.runbooksDir : null;
    const r = await sh(agent, `echo w > ./scratch && cat scratch; ${own ? `ls ${q(own)} | head -1` : 'true'}`);
    expect(r.stdout).toBe(own ? `w\n${readdirSync(own).sort()[0]}\n` : 'w\n');
  });

  it("cannot read the other agents' data or sandboxes", async () => {
    const foreign = [
      ...(agent === 'log_agent' ? [] : [sources.logsDir!]),
      ...(agent === 'runbook_agent' ? [] : [sources.runbooksDir!]),
      ...others.map((o) => statePaths(root, ids[o]).work),
    ];
    const script = foreign
      .map((d) => `ls -A ${q(d)} 2>/dev/null | sed 's|^|LISTED |'; for f in ${q(d)}/*; do [ -e "$f" ] && echo "EXISTS $f"; cat "$f" >/dev/null 2>&1 && echo "READ $f"; done`)
      .join('; ');
    const r = await sh(agent, `${script}; true`);
    expect(r.stdout).toBe('');
    // The same files are there on the host: the sandbox, not their absence, kept them out.
    for (const d of foreign) expect(readdirSync(d).length).toBeGreaterThan(0);
  });

  it("cannot read the worker's environment, the host's home and credentials, the repo or its Temporal tools", async () => {
    const homeEntries = readdirSync(os.homedir()).map((e) => path.join(os.homedir(), e));
    const files = [
      path.join(credDir, 'credentials'),
      path.join(credDir, '.ssh', 'id_ed25519'),
      ...homeEntries,
      '/root/.bashrc',
      path.join(REPO_ROOT, '.tools', 'bin', 'temporal'),
      path.join(REPO_ROOT, 'package.json'),
      path.join(REPO_ROOT, 'src', 'config.ts'),
      path.join(root, ids[agent], 'meta.json'),
      path.join(root, ids[agent], 'settings.json'),
      path.join(root, ids[agent], 'denials.jsonl'),
    ];
    const r = await sh(
      agent,
      `for f in ${files.map(q).join(' ')}; do [ -e "$f" ] && echo "EXISTS $f"; done; ` +
        // /etc/shadow is there (masked), but empty.
        `for f in ${files.map(q).join(' ')} /etc/shadow; do c=$(cat "$f" 2>/dev/null) && [ -n "$c" ] && echo "READ $f"; done; ` +
        `for d in /root ${q(os.homedir())} ${q(REPO_ROOT)} ${q(path.join(REPO_ROOT, '.tools'))} ${q(root)}; do ls -A "$d" 2>/dev/null | sed "s|^|LISTED $d/|"; done; ` +
        // Every process it can see, and their environments: the worker's must not be among them.
        `env; cat /proc/[0-9]*/environ /proc/[0-9]*/cmdline 2>/dev/null | tr '\\0' '\\n'; true`,
    );
    expect(r.stdout).not.toMatch(/^(EXISTS|READ) /m);
    // Listing a hidden directory shows only the path down to this sandbox's own mounts.
    const mounts = [...policies[agent].readOnly, statePaths(root, ids[agent]).dir];
    const listed = [...r.stdout.matchAll(/^LISTED (.+)$/gm)].map((m) => m[1]!);
    expect(listed.filter((p) => !mounts.some((m) => m === p || m.startsWith(p + '/')))).toEqual([]);
    expect(r.stdout).not.toContain(CANARY);
    expect(r.stdout).not.toContain('vitest');
    // Host side: the canaries are really there for a process that is not sandboxed.
    expect(process.env.BULKHEAD_BLAST_CANARY).toBe(CANARY);
    expect(readFileSync(path.join(credDir, 'credentials'), 'utf8')).toContain(CANARY);
  });

  it('cannot reach endpoints outside its policy, through its proxies or around them; every proxied refusal is recorded', async () => {
    const [tHost, tPort] = inject('temporalAddress').split(':') as [string, string];
    const forbidden: Attempt[] = [
      { label: 'temporal', host: tHost, port: Number(tPort), url: `http://${tHost}:${tPort}/` },
      { label: 'outside', host: 'example.com', port: 443, url: 'https://example.com/' },
      { label: 'brain', host: 'api.anthropic.com', port: 443, url: 'https://api.anthropic.com/v1/messages' },
    ];
    if (agent !== 'metrics_agent') forbidden.push({ label: 'prometheus', host: '127.0.0.1', port: prometheus.port, url: `${prometheus.url}/api/v1/query` });

    const got = await tryReach(agent, forbidden);
    expect(got).toHaveLength(forbidden.length * 2);
    for (const o of got) {
      expect(o.body, `${o.label} via ${o.mode}`).not.toMatch(/-ok/);
      if (o.mode === 'http') expect([o.httpCode, o.connectCode], `${o.label} via http proxy`).toContain('403');
      else expect(o.exit, `${o.label} via ${o.mode}`).not.toBe(0);
    }
    // Direct attempts never leave the sandbox (loopback only), so only the proxy sees, and records,
    // refusals: one per proxied attempt.
    const denials = await driver.denials(ids[agent]);
    for (const a of forbidden) {
      const mine = denials.filter((d) => d.host === a.host && d.port === a.port);
      expect(mine, `denials for ${a.label}`).toHaveLength(1);
      for (const d of mine) expect(d).toEqual({ host: a.host, port: a.port, binary: null, reason: 'host is not on the allow list' });
    }
    const allowed = new Set(policies[agent].endpoints.map((e) => `${e.host}:${e.port}`));
    expect(denials.filter((d) => allowed.has(`${d.host}:${d.port}`))).toEqual([]);
  });

  it('cannot write outside its workdir: nothing reaches the host', async () => {
    const own = statePaths(root, ids[agent]);
    const marker = `${MARKER}-${agent}`;
    const metaBefore = readFileSync(own.meta, 'utf8');
    const denialsBefore = (await driver.denials(ids[agent])).length;
    expect(denialsBefore).toBeGreaterThan(0);
    const dirs = [
      '/',
      '/etc',
      '/usr',
      '/opt',
      '/tmp',
      '/var/tmp',
      '/dev/shm',
      '/root',
      os.homedir(),
      credDir,
      REPO_ROOT,
      path.join(REPO_ROOT, '.tools', 'bin'),
      sources.logsDir!,
      sources.runbooksDir!,
      root,
      own.dir,
      own.proxyDir,
      PROXY_DIR_INSIDE,
      ...others.map((o) => statePaths(root, ids[o]).work),
    ];
    const w = await sh(
      agent,
      `for d in ${dirs.map(q).join(' ')}; do mkdir -p "$d" 2>/dev/null; echo x > "$d/${marker}" 2>/dev/null; done; ` +
        // Tampering with its own state or denial record from inside.
        `echo '{}' > ${q(own.meta)} 2>/dev/null; printf "" > ${q(own.denials)} 2>/dev/null; ` +
        // The one place it may write, from the same script: proof the writes above really ran.
        `echo x > ./${marker}`,
    );
    expect(existsSync(path.join(own.work, marker)), JSON.stringify(w)).toBe(true);
    for (const d of dirs) expect(existsSync(path.join(d, marker)), `${d}/${marker} on the host`).toBe(false);
    expect(readFileSync(own.meta, 'utf8')).toBe(metaBefore);
    expect(await driver.denials(ids[agent])).toHaveLength(denialsBefore);
  });
  it('sees exactly its allow-list: every mount and every path it can list is one the layout names', async () => {
    const own = statePaths(root, ids[agent]);
    const r = await sh(
      agent,
      `echo '== mounts'; awk '{print $5}' /proc/self/mountinfo; ` +
        // The root tmpfs itself (skeleton dirs bwrap made), not the mounts on it.
        `echo '== skeleton'; find / -xdev \\( -path /proc -o -path /dev \\) -prune -o -print 2>/dev/null; true`,
    );
    const [, mountText, skeletonText] = r.stdout.split(/^== \w+$/m) as [string, string, string];
    const mountPoints = mountText.trim().split('\n');
    const skeleton = skeletonText.trim().split('\n');
    // The allow-list, written out: a minimal system, named /etc files, its data, its own files.
    const allowedMounts = new Set(['/usr', ...ETC_RO, ...policies[agent].readOnly, own.work, PROXY_DIR_INSIDE, '/tmp', '/']);
    const kernelFs = (m: string) => m === '/proc' || m.startsWith('/proc/') || m === '/dev' || m.startsWith('/dev/');
    expect(mountPoints.filter((m) => !allowedMounts.has(m) && !kernelFs(m))).toEqual([]);
    // Each data mount and the workdir is really there (the comparison is not vacuous).
    for (const m of [...policies[agent].readOnly, own.work, '/usr']) expect(mountPoints).toContain(m);
    const onPath = (p: string) => [...allowedMounts].some((m) => m === p || m.startsWith(p + '/'));
    const fixed = new Set(['/bin', '/sbin', '/lib', '/lib32', '/lib64', '/libx32', '/proc', '/dev', '/var', '/var/tmp', '/run']);
    expect(skeleton.filter((p) => !onPath(p) && !fixed.has(p))).toEqual([]);
    // Nothing of /etc beyond the named files: no shadow, no ssh keys, no planted config.
    expect(mountPoints.filter((m) => m.startsWith('/etc/')).every((m) => ETC_RO.includes(m))).toBe(true);
    expect(skeleton).not.toContain('/etc/shadow');
  });

  it('cannot see or read root-only or world-readable canaries planted in /etc, /var/lib, /opt, /var/log, /mnt, /srv', async () => {
    const all = [...PLANTED.rootOnly, ...PLANTED.public];
    const r = await sh(
      agent,
      `for f in ${all.map(q).join(' ')}; do [ -e "$f" ] && echo "EXISTS $f"; cat "$f" 2>/dev/null; done; ` +
        `for d in /etc /var /opt /mnt /srv; do ls -A "$d" 2>/dev/null | sed "s|^|LISTED $d/|"; done; ` +
        // Every readable file outside the system and kernel trees, searched for the canary.
        `grep -rl ${q(PLANT)} / --exclude-dir=usr --exclude-dir=proc --exclude-dir=dev --exclude-dir=sys 2>/dev/null | sed 's|^|FOUND |'; true`,
    );
    expect(r.stdout).not.toMatch(/^(EXISTS|FOUND) /m);
    expect(r.stdout).not.toContain(PLANT);
    const listed = [...r.stdout.matchAll(/^LISTED (.+)$/gm)].map((m) => m[1]!);
    expect(listed.filter((p) => p.includes(tag))).toEqual([]);
    expect(listed.filter((p) => p.startsWith('/opt') || p.startsWith('/mnt') || p.startsWith('/srv'))).toEqual([]);
    // Host side: they are really there, and readable for an unsandboxed process.
    for (const f of all) expect(readFileSync(f, 'utf8')).toContain(PLANT);
  });

  it("reaches none of the host's listening ports except its policy's, directly or through its proxy", async () => {
    const listeners = hostListeners();
    const allowed = new Set(policies[agent].endpoints.map((e) => `${e.host}:${e.port}`));
    // The model and (metrics) Prometheus stand-ins and the Temporal server are among them.
    expect(listeners.some((l) => l.port === model.port)).toBe(true);
    const attempts: Attempt[] = listeners.map((l) => ({ label: `${l.host}:${l.port}`, host: l.host, port: l.port, url: `http://${l.host}:${l.port}/` }));
    const got = await tryReach(agent, attempts);
    expect(got).toHaveLength(attempts.length * 2);
    const reached = got.filter((o) => o.exit === 0 && o.httpCode !== '403' && o.connectCode !== '403' && o.httpCode !== '000');
    expect(reached.every((o) => o.mode === 'http' && allowed.has(o.label))).toBe(true);
    expect(reached.map((o) => o.label).sort()).toEqual([...allowed].filter((a) => listeners.some((l) => `${l.host}:${l.port}` === a)).sort());
    // Inside: one interface (loopback) and one listener (the proxy bridge).
    const net = await sh(agent, `tail -n +3 /proc/net/dev | cut -d: -f1 | tr -d ' '; echo '=='; awk 'NR>1 && $4=="0A" {print $2}' /proc/net/tcp /proc/net/tcp6`);
    const [ifaces, listening] = net.stdout.split('==\n') as [string, string];
    expect(ifaces.trim().split('\n')).toEqual(['lo']);
    expect(listening.trim().split('\n')).toEqual(['0100007F:0C38']);
  });
});

// After every agent's probes: the cross-agent checks above need the other sandboxes alive.
describe.each(AGENTS)('deleting the sandbox of %s', (agent) => {
  it('leaves nothing on disk or in the process table after delete, even with a command still running', async () => {
    const dir = statePaths(root, ids[agent]).dir;
    // A command in flight, and one it put in the background, detached from its group.
    const running = sh(agent, `setsid sleep 61.${AGENTS.indexOf(agent)} </dev/null >/dev/null 2>&1 & sleep 62.${AGENTS.indexOf(agent)}`);
    await until(async () => hostPids(`sleep 62.${AGENTS.indexOf(agent)}`).length > 0 && hostPids(`sleep 61.${AGENTS.indexOf(agent)}`).length > 0, 20_000, 'the sleeps to start');
    expect(hostPids(`${dir}/`).length).toBeGreaterThan(0);
    const cgroups: string[] = JSON.parse(readFileSync(statePaths(root, ids[agent]).meta, 'utf8')).cgroups ?? [];
    await driver.delete(ids[agent]);
    // Its cgroups too (where the host has them), though its killed processes kept them busy.
    for (const c of cgroups) expect(existsSync(c), c).toBe(false);
    expect((await running).exitCode).not.toBe(0);
    expect(existsSync(dir)).toBe(false);
    expect(hostPids(`${dir}/`)).toEqual([]);
    expect(hostPids(`sleep 61.${AGENTS.indexOf(agent)}`)).toEqual([]);
    expect(hostPids(`sleep 62.${AGENTS.indexOf(agent)}`)).toEqual([]);
    expect((await driver.list()).map((s) => s.id)).not.toContain(ids[agent]);
  });
});
