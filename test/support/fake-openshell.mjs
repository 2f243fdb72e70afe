#!/usr/bin/env node
// A stand-in for NVIDIA OpenShell's `openshell` CLI (v0.0.111), for tests only.
// It checks every argv against the contract in DESIGN.md section 3 and clap's rules
// (unknown flag or missing value: exit 2 with clap's usage text; invalid spec: exit 1 with a
// miette "Error:   ×" report, as the real CLI does), records each call as a JSON line to
// $FAKE_OPENSHELL_LOG, keeps sandboxes and their network rules in $FAKE_OPENSHELL_STATE, runs
// `sandbox exec` commands for real in a per-sandbox directory, and plays back scripted
// outcomes from $FAKE_OPENSHELL_SCRIPT (JSON):
//   { "policyUpdate": ["loaded"|"failed"|"timeout", ...]   consumed in order from the script's
//                                                           first call, then loaded
//     "exec": [{ "match": "substring", "stdout", "stderr", "exitCode", "timeout": true }]
//     "denials": { "<name>|*": ["DENIED ... shorthand", ...] }
//     "deleteNotFound": "exit0" | "error"                  how a missing sandbox is reported
//     "failNext": { "sandbox create": { "exit": 1, "stderr": "..." } }  consumed once }
import { spawn } from 'node:child_process';
import { appendFileSync, cpSync, existsSync, mkdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { parse as parseYaml } from 'yaml';

const argv = process.argv.slice(2);
const LOG = process.env.FAKE_OPENSHELL_LOG;
const STATE = process.env.FAKE_OPENSHELL_STATE ?? '/tmp/fake-openshell-state.json';
const SCRIPT = process.env.FAKE_OPENSHELL_SCRIPT;

class Exit extends Error {
  constructor(code, stderr = '', stdout = '') {
    super(stderr);
    this.code = code;
    this.stderr = stderr;
    this.stdout = stdout;
  }
}

function record(entry) {
  if (LOG) appendFileSync(LOG, JSON.stringify({ argv, ...entry }) + '\n');
}

function loadState() {
  try {
    return JSON.parse(readFileSync(STATE, 'utf8'));
  } catch {
    return { sandboxes: {}, policyCalls: 0, consumed: {} };
  }
}
function saveState(s) {
  writeFileSync(STATE, JSON.stringify(s, null, 2));
}
function loadScript() {
  if (!SCRIPT || !existsSync(SCRIPT)) return {};
  return JSON.parse(readFileSync(SCRIPT, 'utf8'));
}
function sandboxDir(name) {
  return path.join(path.dirname(STATE), 'sandboxes', name);
}

const usage = (u) => `\nUsage: openshell ${u}\n\nFor more information, try '--help'.\n`;
const clap = (msg, u) => new Exit(2, `error: ${msg}\n${usage(u)}`);
const miette = (msg) => new Exit(1, `Error:   × ${msg}\n`);
/** Rejected input the real CLI also rejects (exit 1), but which only a driver bug can produce. */
const violation = (msg) => Object.assign(miette(msg), { violation: true });

/**
 * A small clap: `flags` maps each long/short flag to {value, repeat}; `positionals` names them in
 * order with a trailing `?` when optional; `trailing` is 'required' | 'optional' | 'none' for `-- CMD...`.
 */
function parseArgs(args, { flags, positionals, trailing = 'none', usage: u }) {
  const out = { flags: {}, pos: [], trailing: null };
  const alias = {};
  for (const [k, v] of Object.entries(flags)) {
    alias[k] = k;
    if (v.short) alias[v.short] = k;
  }
  for (let i = 0; i < args.length; i++) {
    const a = args[i];
    if (a === '--') {
      if (trailing === 'none') throw clap(`unexpected argument '${args[i + 1] ?? '--'}' found`, u);
      out.trailing = args.slice(i + 1);
      break;
    }
    if (a.startsWith('-') && a.length > 1) {
      const [flag, inline] = a.startsWith('--') && a.includes('=') ? [a.slice(0, a.indexOf('=')), a.slice(a.indexOf('=') + 1)] : [a, undefined];
      const key = alias[flag];
      if (!key) throw clap(`unexpected argument '${flag}' found`, u);
      const spec = flags[key];
      let value = true;
      if (spec.value) {
        value = inline ?? args[++i];
        if (value === undefined) throw clap(`a value is required for '${key} <${key.slice(2).toUpperCase()}>' but none was supplied`, u);
      }
      if (spec.repeat) (out.flags[key] ??= []).push(value);
      else if (key in out.flags) throw clap(`the argument '${key}' cannot be used multiple times`, u);
      else out.flags[key] = value;
      continue;
    }
    out.pos.push(a);
  }
  const max = positionals.length;
  const min = positionals.filter((p) => !p.endsWith('?') && !p.endsWith('...')).length;
  const variadic = positionals.some((p) => p.endsWith('...'));
  if (out.pos.length < min) throw clap(`the following required arguments were not provided:\n  <${positionals[out.pos.length]}>`, u);
  if (!variadic && out.pos.length > max) throw clap(`unexpected argument '${out.pos[max]}' found`, u);
  if (trailing === 'required' && (!out.trailing || out.trailing.length === 0)) {
    throw clap('the following required arguments were not provided:\n  <COMMAND>...', u);
  }
  return out;
}

function requireSandbox(state, name) {
  if (!state.sandboxes[name]) throw miette('sandbox not found');
  return state.sandboxes[name];
}

function failNext(state, script, key) {
  const f = script.failNext?.[key];
  if (!f || state.consumed[key]) return;
  state.consumed[key] = true;
  saveState(state);
  throw new Exit(f.exit ?? 1, f.stderr ?? '', f.stdout ?? '');
}

// --- policy (after crates/openshell-cli/src/policy_update.rs) ---------------------------------

function parseHost(flag, spec, host) {
  host = (host ?? '').trim();
  if (!host) throw violation(`${flag} has an empty host segment in '${spec}'`);
  if (/\s/.test(host)) throw violation(`${flag} host must not contain whitespace in '${spec}'`);
  if (host.includes('/')) throw violation(`${flag} host must not contain '/' in '${spec}'`);
  return host;
}
function parsePort(flag, spec, port) {
  port = (port ?? '').trim();
  if (!port) throw violation(`${flag} has an empty port segment in '${spec}'`);
  if (!/^\d+$/.test(port)) throw violation(`${flag} port segment must be a base-10 integer, got '${port}' in '${spec}'`);
  const n = Number(port);
  if (n === 0 || n > 65535) throw violation(`${flag} port must be in the range 1-65535, got '${n}' in '${spec}'`);
  return n;
}
function parseAddEndpoint(spec) {
  const parts = spec.split(':');
  if (parts.length < 2 || parts.length > 6) {
    throw violation(`--add-endpoint expects host:port[:access[:protocol[:enforcement[:options]]]], got '${spec}'`);
  }
  const host = parseHost('--add-endpoint', spec, parts[0]);
  const port = parsePort('--add-endpoint', spec, parts[1]);
  const [access = '', protocol = '', enforcement = ''] = parts.slice(2, 5).map((p) => p.trim());
  if (parts.length === 3 && !access) throw violation(`--add-endpoint has an empty access segment in '${spec}'`);
  if (parts.length === 6) throw violation(`fake-openshell: endpoint options are outside the contract in '${spec}'`);
  if (enforcement && !protocol) throw violation(`--add-endpoint cannot set enforcement without protocol in '${spec}'`);
  if (access && !['read-only', 'read-write', 'full'].includes(access)) {
    throw violation(`--add-endpoint access segment must be one of read-only, read-write, or full; got '${access}' in '${spec}'`);
  }
  if (protocol && !['tcp', 'rest', 'websocket', 'sql'].includes(protocol)) {
    throw violation(`--add-endpoint protocol segment must be 'tcp', 'rest', 'websocket', or 'sql'; got '${protocol}' in '${spec}'`);
  }
  if (protocol === 'tcp' && (access || enforcement)) {
    throw violation(`--add-endpoint protocol 'tcp' does not support access or enforcement in '${spec}'`);
  }
  if (enforcement && !['enforce', 'audit'].includes(enforcement)) {
    throw violation(`--add-endpoint enforcement segment must be 'enforce' or 'audit'; got '${enforcement}' in '${spec}'`);
  }
  return { host, port, ...(access && { access }), ...(protocol && { protocol }), ...(enforcement && { enforcement }) };
}
function generatedRuleName(host, port) {
  return `allow_${host.replace(/[.-]/g, '_').replace(/[^A-Za-z0-9_]/g, '')}_${port}`;
}

function validatePolicyYaml(file) {
  let doc;
  try {
    doc = parseYaml(readFileSync(file, 'utf8'));
  } catch (e) {
    throw violation(`failed to read policy file ${file}: ${e.message}`);
  }
  if (doc?.version !== 1) throw violation(`${file}: unsupported policy version`);
  const fs = doc.filesystem_policy;
  if (!fs || !Array.isArray(fs.read_only) || !Array.isArray(fs.read_write)) throw violation(`${file}: filesystem_policy.read_only/read_write required`);
  if (doc.landlock && !['best_effort', 'hard_requirement'].includes(doc.landlock.compatibility)) {
    throw violation(`${file}: landlock.compatibility must be best_effort or hard_requirement`);
  }
  const rules = {};
  for (const [key, rule] of Object.entries(doc.network_policies ?? {})) {
    if (!rule?.name || !Array.isArray(rule.endpoints) || !Array.isArray(rule.binaries)) throw violation(`${file}: network_policies.${key}: name, endpoints, binaries required`);
    for (const e of rule.endpoints) if (!e.host || !Number.isInteger(e.port)) throw violation(`${file}: network_policies.${key}: endpoint host and port required`);
    for (const b of rule.binaries) if (typeof b?.path !== 'string' || !b.path.startsWith('/')) throw violation(`${file}: network_policies.${key}: binaries[].path must be absolute`);
    rules[key] = { endpoints: rule.endpoints, binaries: rule.binaries.map((b) => b.path) };
  }
  return { doc, rules };
}

// --- commands ---------------------------------------------------------------------------------

const OUTPUT = ['table', 'json', 'yaml'];

function sandboxCreate(args) {
  const u = 'sandbox create [OPTIONS] [-- <COMMAND>...]';
  const p = parseArgs(args, {
    usage: u,
    positionals: [],
    trailing: 'optional',
    flags: {
      '--name': { value: true }, '--from': { value: true }, '--policy': { value: true },
      '--detach': {}, '--output': { value: true, short: '-o' }, '--no-tty': {}, '--tty': {},
      '--no-auto-providers': {},
    },
  });
  if (p.flags['--output'] !== undefined && !OUTPUT.includes(p.flags['--output'])) {
    throw clap(`invalid value '${p.flags['--output']}' for '--output <OUTPUT>'`, u);
  }
  // clap: `--output` conflicts_with_all = ["editor", "command", "no_keep", "forward"].
  if (p.flags['--output'] !== undefined && p.trailing?.length) {
    throw clap("the argument '--output <OUTPUT>' cannot be used with '[COMMAND]...'", u);
  }
  const name = p.flags['--name'];
  if (!name) throw new Exit(2, 'fake-openshell: the contract always names the sandbox (--name)\n');
  if (!/^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/.test(name)) throw violation(`invalid sandbox name '${name}'`);
  if (!p.flags['--policy']) throw new Exit(2, 'fake-openshell: the contract always passes --policy\n');
  const { doc, rules } = validatePolicyYaml(p.flags['--policy']);
  const state = loadState();
  failNext(state, loadScript(), 'sandbox create');
  if (state.sandboxes[name]) {
    throw miette(`sandbox '${name}' already exists\n\nhint: delete it first with: openshell sandbox delete <name>\n      or use a different name`);
  }
  const createdAt = new Date().toISOString();
  state.sandboxes[name] = { createdAt, from: p.flags['--from'] ?? null, command: p.trailing ?? ['/bin/bash', '-l'], policy: doc, rules, version: 1 };
  mkdirSync(sandboxDir(name), { recursive: true });
  saveState(state);
  if (p.flags['--output'] === 'json') {
    return { stdout: JSON.stringify({ id: `sbx-${name}`, name, workspace: 'default', labels: {}, annotations: {}, resource_version: 1, created_at: createdAt, phase: 'Ready', current_policy_version: 1 }, null, 2) + '\n',
      stderr: 'Provisioning sandbox (structured output on stdout)...\n' };
  }
  return { stdout: `Created sandbox: ${name}\n  Requesting compute...\n  Sandbox ready\n` };
}

function sandboxList(args) {
  const u = 'sandbox list [OPTIONS]';
  const p = parseArgs(args, {
    usage: u, positionals: [],
    flags: { '--names': {}, '--ids': {}, '--limit': { value: true }, '--offset': { value: true }, '--selector': { value: true }, '--output': { value: true, short: '-o' } },
  });
  if (p.flags['--names'] && (p.flags['--ids'] || p.flags['--output'])) throw clap("the argument '--names' cannot be used with '--ids'", u);
  const state = loadState();
  failNext(state, loadScript(), 'sandbox list');
  const names = Object.keys(state.sandboxes);
  if (p.flags['--names']) return { stdout: names.map((n) => n + '\n').join('') };
  if (!names.length) return { stdout: 'No sandboxes found.\n' };
  return { stdout: ['NAME  CREATED  PHASE', ...names.map((n) => `${n}  ${state.sandboxes[n].createdAt}  Ready`)].join('\n') + '\n' };
}

function sandboxDelete(args) {
  const u = 'sandbox delete [OPTIONS] <NAME>...';
  const p = parseArgs(args, { usage: u, positionals: ['NAME...'], flags: { '--all': {} } });
  if (!p.pos.length && !p.flags['--all']) throw clap('the following required arguments were not provided:\n  <NAME>...', u);
  const state = loadState();
  const script = loadScript();
  failNext(state, script, 'sandbox delete');
  let stdout = '';
  for (const name of p.pos) {
    if (!state.sandboxes[name]) {
      // Depending on the gateway: deleted=false (printed, exit 0) or a NotFound status (exit 1).
      if (script.deleteNotFound === 'error') throw new Exit(1, 'Error:   × status: NotFound, message: "sandbox not found"\n');
      stdout += `! Sandbox ${name} not found\n`;
      continue;
    }
    delete state.sandboxes[name];
    rmSync(sandboxDir(name), { recursive: true, force: true });
    stdout += `✓ Deleted sandbox ${name}\n`;
  }
  saveState(state);
  return { stdout };
}

function sandboxUpload(args) {
  const u = 'sandbox upload [OPTIONS] <NAME> <LOCAL_PATH> [DEST]';
  const p = parseArgs(args, { usage: u, positionals: ['NAME', 'LOCAL_PATH', 'DEST?'], flags: { '--no-git-ignore': {} } });
  const [name, local, dest] = p.pos;
  const state = loadState();
  requireSandbox(state, name);
  failNext(state, loadScript(), 'sandbox upload');
  if (!existsSync(local)) throw miette(`local path does not exist: ${local}`);
  const root = sandboxDir(name);
  const isDir = statSync(local).isDirectory();
  const base = path.resolve(root, dest ?? '.');
  if (!base.startsWith(root)) throw miette(`destination escapes the sandbox workdir: ${dest}`);
  const into = isDir || !dest || dest.endsWith('/') || (existsSync(base) && statSync(base).isDirectory());
  const target = into ? path.join(base, path.basename(local)) : base;
  mkdirSync(path.dirname(target), { recursive: true });
  cpSync(local, target, { recursive: true });
  return { stderr: `Uploading ${local} -> sandbox:${dest ?? '.'}\n✓ Upload complete\n` };
}

async function sandboxExec(args) {
  const u = 'sandbox exec [OPTIONS] -- <COMMAND>...';
  const p = parseArgs(args, {
    usage: u, positionals: [], trailing: 'required',
    flags: { '--name': { value: true, short: '-n' }, '--timeout': { value: true }, '--workdir': { value: true }, '--tty': {}, '--no-tty': {}, '--env': { value: true, repeat: true } },
  });
  const timeout = p.flags['--timeout'] ?? '0';
  if (!/^\d+$/.test(timeout)) throw clap(`invalid value '${timeout}' for '--timeout <TIMEOUT>': invalid digit found in string`, u);
  const name = p.flags['--name'];
  if (!name) throw new Exit(2, 'fake-openshell: the contract always names the sandbox (-n)\n');
  const state = loadState();
  requireSandbox(state, name);
  const command = p.trailing;
  const joined = command.join(' ');
  const rule = (loadScript().exec ?? []).find((r) => joined.includes(r.match));
  if (rule) {
    if (rule.timeout) throw new Exit(124, (rule.stderr ?? '') + `command timed out after ${timeout} seconds\n`, rule.stdout ?? '');
    return { stdout: rule.stdout ?? '', stderr: rule.stderr ?? '', code: rule.exitCode ?? 0 };
  }
  // Run it for real, in the sandbox's own directory, streaming as the real CLI does.
  return new Promise((resolve) => {
    const child = spawn(command[0], command.slice(1), { cwd: sandboxDir(name), stdio: ['pipe', 'inherit', 'inherit'] });
    process.stdin.pipe(child.stdin);
    child.stdin.on('error', () => {});
    let timedOut = false;
    const t = Number(timeout) > 0 ? setTimeout(() => { timedOut = true; child.kill('SIGKILL'); }, Number(timeout) * 1000) : undefined;
    child.on('error', (e) => resolve({ stderr: `exec failed: ${e.message}\n`, code: 127 }));
    child.on('close', (code, signal) => {
      clearTimeout(t);
      process.stdin.unpipe(child.stdin);
      process.stdin.destroy();
      resolve(timedOut ? { code: 124 } : { code: code ?? 128 + (signal === 'SIGKILL' ? 9 : 15) });
    });
  });
}

function policyUpdate(args) {
  const u = 'policy update [OPTIONS] [NAME]';
  const p = parseArgs(args, {
    usage: u, positionals: ['NAME?'],
    flags: {
      '--add-endpoint': { value: true, repeat: true }, '--remove-endpoint': { value: true, repeat: true },
      '--add-allow': { value: true, repeat: true }, '--add-deny': { value: true, repeat: true },
      '--remove-rule': { value: true, repeat: true }, '--binary': { value: true, repeat: true },
      '--rule-name': { value: true }, '--dry-run': {}, '--wait': {}, '--timeout': { value: true },
    },
  });
  const [name] = p.pos;
  if (!name) throw new Exit(2, 'fake-openshell: the contract always names the sandbox\n');
  if (!p.flags['--wait']) throw new Exit(2, 'fake-openshell: the contract always passes --wait\n');
  if (p.flags['--dry-run'] && p.flags['--wait']) throw violation('--wait cannot be combined with --dry-run');
  const add = p.flags['--add-endpoint'] ?? [];
  const remove = p.flags['--remove-endpoint'] ?? [];
  const binaries = p.flags['--binary'] ?? [];
  if (binaries.some((b) => !b.trim())) throw violation('--binary values must not be empty');
  if (binaries.length && !add.length) throw violation('--binary can only be used with --add-endpoint');
  const endpoints = add.map(parseAddEndpoint);
  const removals = remove.map((spec) => {
    const parts = spec.split(':');
    if (parts.length !== 2) throw violation(`--remove-endpoint expects host:port, got '${spec}'`);
    return { host: parseHost('--remove-endpoint', spec, parts[0]), port: parsePort('--remove-endpoint', spec, parts[1]) };
  });
  if (!endpoints.length && !removals.length && !(p.flags['--remove-rule'] ?? []).length) {
    throw violation('policy update requires at least one operation flag');
  }
  const state = loadState();
  const sb = requireSandbox(state, name);
  // The queue restarts whenever the script changes, so each test scripts from its own first call.
  const scriptText = JSON.stringify(loadScript());
  if (state.policyScript !== scriptText) Object.assign(state, { policyScript: scriptText, policyCalls: 0 });
  const outcome = (loadScript().policyUpdate ?? [])[state.policyCalls] ?? 'loaded';
  state.policyCalls += 1;
  const version = sb.version + 1;
  const submitted = `✓ Policy version ${version} submitted (hash: ${'a1b2c3d4e5f6'})\n`;
  if (outcome === 'timeout') {
    saveState(state);
    throw new Exit(124, submitted + `✗ Timeout waiting for policy version ${version} to load\n`);
  }
  if (outcome === 'failed') {
    saveState(state);
    throw new Exit(1, submitted + `✗ Policy version ${version} failed to load: L7 validation failed for endpoint\n`);
  }
  for (const r of removals) {
    for (const [key, rule] of Object.entries(sb.rules)) {
      rule.endpoints = rule.endpoints.filter((e) => !(e.host === r.host && e.port === r.port));
      if (!rule.endpoints.length) delete sb.rules[key];
    }
  }
  for (const e of endpoints) {
    const key = p.flags['--rule-name'] ?? generatedRuleName(e.host, e.port);
    const prev = sb.rules[key];
    sb.rules[key] = { endpoints: [e], binaries: [...new Set([...(prev?.binaries ?? []), ...binaries])] };
  }
  sb.version = version;
  saveState(state);
  return { stderr: submitted + `✓ Policy version ${version} loaded (active version: ${version})\n` };
}

function logs(args) {
  const u = 'logs [OPTIONS] [NAME]';
  const p = parseArgs(args, {
    usage: u, positionals: ['NAME?'],
    flags: { '-n': { value: true }, '--tail': {}, '--since': { value: true }, '--source': { value: true, repeat: true }, '--level': { value: true } },
  });
  const [name] = p.pos;
  if (!name) throw new Exit(2, 'fake-openshell: the contract always names the sandbox\n');
  if (p.flags['-n'] !== undefined && !/^\d+$/.test(p.flags['-n'])) throw clap(`invalid value '${p.flags['-n']}' for '-n <N>'`, u);
  for (const s of p.flags['--source'] ?? []) if (!['gateway', 'sandbox', 'all'].includes(s)) throw miette(`unknown log source '${s}'`);
  const state = loadState();
  requireSandbox(state, name);
  const script = loadScript().denials ?? {};
  const lines = [
    'NET:OPEN [INFO] ALLOWED /usr/bin/node(12) -> model.internal:8000 [policy:model engine:opa]',
    ...(script[name] ?? []), ...(script['*'] ?? []),
  ];
  const t = Math.floor(Date.parse(state.sandboxes[name].createdAt) / 1000);
  return { stdout: lines.map((l, i) => `[${t + i}.${String(i * 7).padStart(3, '0')}] [sandbox] [INFO ] [openshell_sandbox::ocsf] ${l}\n`).join('') };
}

const COMMANDS = {
  sandbox: { create: sandboxCreate, list: sandboxList, delete: sandboxDelete, upload: sandboxUpload, exec: sandboxExec },
  policy: { update: policyUpdate },
};

async function main() {
  const [group, sub, ...rest] = argv;
  if (group === 'logs') return logs(argv.slice(1));
  const table = COMMANDS[group];
  if (!table) throw clap(`unrecognized subcommand '${group ?? ''}'`, '[OPTIONS] <COMMAND>');
  const fn = table[sub];
  if (!fn) throw clap(`unrecognized subcommand '${sub ?? ''}'`, `${group} <COMMAND>`);
  return fn(rest);
}

try {
  const r = (await main()) ?? {};
  if (r.stdout) process.stdout.write(r.stdout);
  if (r.stderr) process.stderr.write(r.stderr);
  record({ ok: true, exit: r.code ?? 0 });
  process.exitCode = r.code ?? 0;
} catch (e) {
  if (!(e instanceof Exit)) throw e;
  if (e.stdout) process.stdout.write(e.stdout);
  process.stderr.write(e.stderr);
  // A usage error (2) means the driver broke the contract; everything else is a played-back outcome.
  record({ ok: e.code !== 2 && !e.violation, exit: e.code, error: e.stderr.trim() });
  process.exitCode = e.code;
}
