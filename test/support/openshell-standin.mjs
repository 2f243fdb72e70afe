#!/usr/bin/env node
// A stand-in for NVIDIA OpenShell's `openshell` CLI and its gateway, v0.0.111, for tests only.
// Every rule below was read from OpenShell's source at tag v0.0.111 (summarised, with the same
// citations, in ../shared/contracts/openshell.md); each cites the file it mirrors. Nothing here
// is OpenShell code.
//
// State lives in $OPENSHELL_STANDIN_DIR, so concurrent CLI processes see one gateway:
//   sandboxes/<name>.json   one record per sandbox (created with O_EXCL: one create wins)
//   work/<name>/            the sandbox's workdir; `sandbox exec` runs commands there for real
//   denials/<name>          OCSF lines the sandbox's proxy would have logged (tests append)
//   inject/<op>.<fault>.<n> one-shot faults; a CLI call claims one by rename (atomic), where
//                           op is create|exec|list|delete|upload|policy|logs|any and fault is
//                           unavailable|deadline|error-phase|policy-failed|policy-timeout
//   calls.jsonl             every call: argv, exit, and ok=false when our caller broke the contract
// Each `sandbox exec` runs its command behind a proxy that enforces the sandbox's live policy
// (host:port per rule, read-only = reads only for plain HTTP, loopback always refused) and logs
// OCSF denial lines. Environment: OPENSHELL_STANDIN_WARN=1 prints a CLI warning on stdout (unless RUST_LOG=error),
// OPENSHELL_STANDIN_VERSION (default 0.0.111), OPENSHELL_STANDIN_IMAGE_PATHS (extra image paths),
// OPENSHELL_STANDIN_PROVISION_MS (default 30).
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import http from 'node:http';
import net from 'node:net';
import { appendFileSync, cpSync, existsSync, mkdirSync, readFileSync, readdirSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { parse as parseYaml, stringify as toYaml } from 'yaml';

const argv = process.argv.slice(2);
const STARTED = Date.now();
const DIR = process.env.OPENSHELL_STANDIN_DIR ?? '/tmp/openshell-standin';
const VERSION = process.env.OPENSHELL_STANDIN_VERSION ?? '0.0.111';
const recordFile = (n) => path.join(DIR, 'sandboxes', `${n}.json`);
const workDir = (n) => path.join(DIR, 'work', n);
for (const d of ['sandboxes', 'work', 'denials', 'inject', 'claimed']) mkdirSync(path.join(DIR, d), { recursive: true });

class Exit extends Error {
  constructor(code, stderr = '', stdout = '', violation = false) {
    super(stderr);
    Object.assign(this, { code, stderr, stdout, violation });
  }
}

// crates/openshell-cli/src/main.rs: `main() -> miette::Result<()>`: any error is exit 1 with
// "Error: " and a miette report; piped, long messages wrap at 80 columns with "  │ " lines.
function report(msg) {
  const words = msg.split(' ');
  const lines = [];
  let cur = '';
  for (const w of words) {
    if (cur && cur.length + 1 + w.length > 74) {
      lines.push(cur);
      cur = w;
    } else cur = cur ? `${cur} ${w}` : w;
  }
  lines.push(cur);
  return `Error:   × ${lines[0]}\n${lines.slice(1).map((l) => `  │ ${l}\n`).join('')}`;
}
const fail = (msg, violation = false) => new Exit(1, report(msg), '', violation);
// tonic's Status Display spells the code as its description (tonic Code::description).
const CODE = {
  InvalidArgument: 'Client specified an invalid argument',
  NotFound: 'Some requested entity was not found',
  AlreadyExists: 'Some entity that we attempted to create already exists',
  Unavailable: 'The service is currently unavailable',
  DeadlineExceeded: 'Deadline expired before operation could complete',
  FailedPrecondition: 'Operation was rejected because the system is not in a state required for the operation\'s execution',
};
const grpc = (code, message, violation = false) => fail(`code: '${CODE[code]}', message: ${JSON.stringify(message)}`, violation);
// clap usage errors: exit 2.
const usage = (u) => `\nUsage: openshell ${u}\n\nFor more information, try '--help'.\n`;
const clap = (msg, u) => new Exit(2, `error: ${msg}\n${usage(u)}`);

function logCall(entry) {
  appendFileSync(path.join(DIR, 'calls.jsonl'), JSON.stringify({ argv, ...entry, ms: Date.now() - STARTED, at: STARTED }) + '\n');
}

/** Claims a one-shot fault for this operation: rename is atomic, so exactly one call gets it. */
function claim(op, fault) {
  for (const f of readdirSync(path.join(DIR, 'inject')).sort()) {
    const [o, k] = f.split('.');
    if ((o === op || o === 'any') && k === fault) {
      try {
        renameSync(path.join(DIR, 'inject', f), path.join(DIR, 'claimed', `${f}.${process.pid}`));
        return true;
      } catch {
        // another call took it
      }
    }
  }
  return false;
}
/** Gateway-level faults any RPC can meet (tonic transport / status errors). */
function gatewayFaults(op) {
  if (claim(op, 'unavailable')) throw grpc('Unavailable', 'tcp connect error: Connection refused (os error 111)');
  if (claim(op, 'deadline')) throw grpc('DeadlineExceeded', 'Timeout expired');
}

function load(name) {
  try {
    return JSON.parse(readFileSync(recordFile(name), 'utf8'));
  } catch {
    return null;
  }
}
const save = (r) => writeFileSync(recordFile(r.name), JSON.stringify(r, null, 2));
/** crates/openshell-cli/src/run.rs sandbox_exec_grpc: GetSandbox NotFound is a gRPC status. */
function requireSandbox(name) {
  const r = load(name);
  if (!r) throw grpc('NotFound', 'sandbox not found');
  return r;
}

/** A small clap (crates/openshell-cli/src/main.rs definitions): unknown flags and missing values exit 2. */
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
  const min = positionals.filter((p) => !p.endsWith('?') && !p.endsWith('...')).length;
  const variadic = positionals.some((p) => p.endsWith('...'));
  if (out.pos.length < min) throw clap(`the following required arguments were not provided:\n  <${positionals[out.pos.length]}>`, u);
  if (!variadic && out.pos.length > positionals.length) throw clap(`unexpected argument '${out.pos[positionals.length]}' found`, u);
  if (trailing === 'required' && !out.trailing?.length) throw clap('the following required arguments were not provided:\n  <COMMAND>...', u);
  return out;
}

// --- validation (crates/openshell-server/src/grpc/validation.rs) --------------------------------

/** validate_sandbox_spec (MAX_ROUTABLE_NAME_LEN = 19) then validate_dns1123_label, same wording. */
function validateName(name) {
  if (name.length > 19) throw grpc('InvalidArgument', `name exceeds maximum length (${name.length} > 19)`);
  if (![...name].every((c) => /[a-z0-9-]/.test(c))) throw grpc('InvalidArgument', 'name must contain only lowercase alphanumeric characters or hyphens');
  if (name.startsWith('-') || name.endsWith('-')) throw grpc('InvalidArgument', 'name must not start or end with a hyphen');
  if (name.includes('--')) throw grpc('InvalidArgument', 'name must not contain consecutive hyphens');
}
/** validate_label_key / validate_label_value (Kubernetes rules). */
function validateLabel(key, value) {
  const [prefix, name] = key.includes('/') ? key.split(/\/(.*)/s) : [null, key];
  if (!name || name.length > 63 || !/^[A-Za-z0-9]([A-Za-z0-9._-]*[A-Za-z0-9])?$/.test(name)) throw grpc('InvalidArgument', `label key name segment is invalid: '${key}'`);
  if (prefix !== null && (!/^[a-z0-9]([a-z0-9.-]*[a-z0-9])?$/.test(prefix) || prefix.includes('..'))) {
    throw grpc('InvalidArgument', `label key prefix must be a DNS subdomain (lowercase alphanumeric, '-', '.'): '${key}'`);
  }
  if (value.length > 63) throw grpc('InvalidArgument', `label value exceeds 63 characters: '${value}'`);
  if (value && !/^[A-Za-z0-9]([A-Za-z0-9._-]*[A-Za-z0-9])?$/.test(value)) throw grpc('InvalidArgument', `label value is invalid: '${value}'`);
}
/** validate_label_selector: key=value pairs, comma separated. */
function parseSelector(sel) {
  const pairs = {};
  for (const part of sel.split(',')) {
    const [k, v] = part.split(/=(.*)/s);
    if (!k || v === undefined) throw grpc('InvalidArgument', `invalid label selector: '${sel}'`);
    pairs[k.trim()] = v.trim();
  }
  return pairs;
}

// --- policy YAML (crates/openshell-policy/src/lib.rs: serde deny_unknown_fields) ---------------

const TOP_KEYS = ['version', 'filesystem_policy', 'landlock', 'process', 'network_policies'];
function loadPolicyFile(file) {
  let doc;
  try {
    doc = parseYaml(readFileSync(file, 'utf8'));
  } catch (e) {
    throw fail(`failed to read policy file ${file}: ${e.message}`, true);
  }
  for (const k of Object.keys(doc ?? {})) if (!TOP_KEYS.includes(k)) throw fail(`failed to parse sandbox policy YAML: unknown field \`${k}\`, expected one of ${TOP_KEYS.map((t) => `\`${t}\``).join(', ')}`, true);
  if (doc?.version !== 1) throw fail('failed to parse sandbox policy YAML: unsupported policy version', true);
  const fs = doc.filesystem_policy ?? {};
  for (const k of Object.keys(fs)) if (!['include_workdir', 'read_only', 'read_write'].includes(k)) throw fail(`failed to parse sandbox policy YAML: unknown field \`${k}\``, true);
  const compat = doc.landlock?.compatibility ?? 'best_effort';
  if (!['best_effort', 'hard_requirement'].includes(compat)) throw fail(`failed to parse sandbox policy YAML: landlock.compatibility '${compat}'`, true);
  for (const v of [doc.process?.run_as_user, doc.process?.run_as_group]) {
    if (v === 0 || v === '0' || v === 'root') throw grpc('InvalidArgument', 'process.run_as_user/run_as_group must not be root (0)', true);
  }
  for (const [key, rule] of Object.entries(doc.network_policies ?? {})) {
    if (!Array.isArray(rule?.endpoints) || !Array.isArray(rule?.binaries)) throw fail(`failed to parse sandbox policy YAML: network_policies.${key}: endpoints and binaries required`, true);
    for (const e of rule.endpoints) {
      if (!e.host || !Number.isInteger(e.port)) throw fail(`failed to parse sandbox policy YAML: network_policies.${key}: endpoint host and port required`, true);
      if (e.protocol === 'tcp' && (e.access || e.enforcement)) throw grpc('InvalidArgument', `network_policies.${key}: protocol 'tcp' does not support access or enforcement`, true);
    }
  }
  return doc;
}
/** The paths a default image has; `landlock: hard_requirement` aborts start on any other. */
const IMAGE_PATHS = ['/usr', '/lib', '/etc', '/proc', '/dev', '/dev/null', '/dev/urandom', '/tmp', '/sandbox', '/bin', '/sbin', '/var', '/home',
  ...(process.env.OPENSHELL_STANDIN_IMAGE_PATHS ?? '').split(',').filter(Boolean)];
/** crates/openshell-sandbox (landlock setup): best_effort skips a path it cannot open, hard_requirement aborts. */
function landlockProblem(doc) {
  if ((doc.landlock?.compatibility ?? 'best_effort') !== 'hard_requirement') return null;
  const fs = doc.filesystem_policy ?? {};
  const missing = [...(fs.read_only ?? []), ...(fs.read_write ?? [])].find((p) => !IMAGE_PATHS.includes(p));
  return missing ? `landlock hard_requirement: failed to open path '${missing}': No such file or directory (os error 2)` : null;
}

// --- commands ----------------------------------------------------------------------------------

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const PROVISION_MS = Number(process.env.OPENSHELL_STANDIN_PROVISION_MS ?? 30);
const OUTPUT = ['table', 'json', 'yaml'];

/** crates/openshell-cli/src/run.rs sandbox_create: create, then watch phases until Ready or Error. */
async function sandboxCreate(args) {
  const u = 'sandbox create [OPTIONS] [-- <COMMAND>...]';
  const p = parseArgs(args, {
    usage: u, positionals: [], trailing: 'optional',
    flags: {
      '--name': { value: true }, '--from': { value: true }, '--policy': { value: true }, '--detach': {},
      '--output': { value: true, short: '-o' }, '--label': { value: true, repeat: true }, '--env': { value: true, repeat: true },
      '--no-tty': {}, '--tty': {}, '--no-auto-providers': {},
    },
  });
  if (p.flags['--output'] !== undefined && !OUTPUT.includes(p.flags['--output'])) throw clap(`invalid value '${p.flags['--output']}' for '--output <OUTPUT>'`, u);
  // clap: `--output` conflicts_with_all = ["editor", "command", "no_keep", "forward"].
  if (p.flags['--output'] !== undefined && p.trailing?.length) throw clap("the argument '--output <OUTPUT>' cannot be used with '[COMMAND]...'", u);
  const labels = {};
  for (const l of p.flags['--label'] ?? []) {
    const [k, v] = l.split(/=(.*)/s);
    if (v === undefined) throw fail(`invalid label format '${l}', expected key=value`);
    labels[k] = v;
  }
  const name = p.flags['--name'];
  if (!name) throw new Exit(2, 'openshell-standin: Bulkhead always names its sandboxes (--name)\n', '', true);
  gatewayFaults('create');
  validateName(name);
  for (const [k, v] of Object.entries(labels)) validateLabel(k, v);
  const policy = p.flags['--policy'] ? loadPolicyFile(p.flags['--policy']) : null;
  const record = {
    id: createHash('sha256').update(`${name}${Date.now()}${process.pid}`).digest('hex').slice(0, 12), name, workspace: 'default', labels,
    createdAtMs: Date.now(), phase: 'Provisioning', policy, baseline: policy, version: 1, command: p.trailing?.length ? p.trailing : ['/bin/bash', '-l'],
  };
  try {
    writeFileSync(recordFile(name), JSON.stringify(record), { flag: 'wx' });
  } catch {
    throw fail(`sandbox '${name}' already exists`);
  }
  mkdirSync(workDir(name), { recursive: true });
  await sleep(PROVISION_MS);
  // A main process that exits, a landlock hard_requirement on an absent path, or an injected
  // failure: the sandbox reaches Error and THE RECORD STAYS until deleted.
  const problem = policy && landlockProblem(policy);
  if (problem || claim('create', 'error-phase')) {
    save({ ...load(name), phase: 'Error', error: problem ?? 'container exited: ImagePullBackOff' });
    throw fail(`sandbox entered error phase while provisioning: ${problem ?? 'container exited: ImagePullBackOff'}`);
  }
  save({ ...load(name), phase: 'Ready' });
  return { stdout: `Created sandbox: ${name}\n` };
}

function rowJson(r) {
  const d = new Date(r.createdAtMs).toISOString();
  // crates/openshell-cli/src/run.rs sandbox_to_json; created_at from format_epoch_ms (UTC, seconds).
  return { id: r.id, name: r.name, workspace: r.workspace, labels: r.labels, annotations: {}, resource_version: r.version,
    created_at: `${d.slice(0, 10)} ${d.slice(11, 19)}`, phase: r.phase, current_policy_version: r.version };
}

/** crates/openshell-cli/src/run.rs sandbox_list; the server pages (limit default 100, max 1000). */
function sandboxList(args) {
  const u = 'sandbox list [OPTIONS]';
  const p = parseArgs(args, {
    usage: u, positionals: [],
    flags: { '--names': {}, '--ids': {}, '--limit': { value: true }, '--offset': { value: true }, '--selector': { value: true }, '--output': { value: true, short: '-o' }, '--all-workspaces': {} },
  });
  if (p.flags['--names'] && (p.flags['--ids'] || p.flags['--output'])) throw clap("the argument '--names' cannot be used with '--output <OUTPUT>'", u);
  for (const f of ['--limit', '--offset']) if (p.flags[f] !== undefined && !/^\d+$/.test(p.flags[f])) throw clap(`invalid value '${p.flags[f]}' for '${f} <${f.slice(2).toUpperCase()}>'`, u);
  gatewayFaults('list');
  const limit = Math.min(Number(p.flags['--limit'] ?? 100) || 100, 1000);
  const offset = Number(p.flags['--offset'] ?? 0);
  const sel = p.flags['--selector'] ? parseSelector(p.flags['--selector']) : null;
  const all = readdirSync(path.join(DIR, 'sandboxes')).filter((f) => f.endsWith('.json')).map((f) => load(f.slice(0, -5))).filter(Boolean)
    .filter((r) => !sel || Object.entries(sel).every(([k, v]) => r.labels?.[k] === v))
    .sort((a, b) => a.createdAtMs - b.createdAtMs || a.name.localeCompare(b.name));
  const page = all.slice(offset, offset + limit);
  if (p.flags['--output'] === 'json') return { stdout: JSON.stringify(page.map(rowJson), null, 2) + '\n' };
  if (p.flags['--output'] === 'yaml') return { stdout: toYaml(page.map(rowJson)) };
  if (p.flags['--names']) return { stdout: page.map((r) => `${r.name}\n`).join('') };
  if (!page.length) return { stdout: 'No sandboxes found.\n' };
  return { stdout: ['NAME  CREATED  PHASE', ...page.map((r) => `${r.name}  ${rowJson(r).created_at}  ${r.phase}`)].join('\n') + '\n' };
}

/** crates/openshell-cli/src/run.rs sandbox_delete. */
function sandboxDelete(args) {
  const u = 'sandbox delete [OPTIONS] <NAME>...';
  const p = parseArgs(args, { usage: u, positionals: ['NAME...'], flags: { '--all': {} } });
  if (!p.pos.length && !p.flags['--all']) throw clap('the following required arguments were not provided:\n  <NAME>...', u);
  gatewayFaults('delete');
  let stdout = '';
  for (const name of p.pos) {
    if (!load(name)) throw grpc('NotFound', 'sandbox not found');
    rmSync(recordFile(name), { force: true });
    rmSync(workDir(name), { recursive: true, force: true });
    rmSync(path.join(DIR, 'denials', name), { force: true });
    stdout += `✓ Deleted sandbox ${name}\n`;
  }
  return { stdout };
}

/** crates/openshell-cli/src/run.rs sandbox_upload: tar over SSH, so the host needs `ssh`. */
function sandboxUpload(args) {
  const u = 'sandbox upload [OPTIONS] <NAME> <LOCAL_PATH> [DEST]';
  const p = parseArgs(args, { usage: u, positionals: ['NAME', 'LOCAL_PATH', 'DEST?'], flags: { '--no-git-ignore': {} } });
  const [name, local, dest] = p.pos;
  gatewayFaults('upload');
  const r = requireSandbox(name);
  if (r.phase !== 'Ready') throw fail(`sandbox '${name}' is not ready (phase: ${r.phase}); wait for it to reach Ready state`);
  const ssh = (process.env.PATH ?? '').split(':').some((d) => d && existsSync(path.join(d, 'ssh')));
  if (!ssh) throw fail('failed to spawn ssh: No such file or directory (os error 2)');
  if (!existsSync(local)) throw fail(`local path does not exist: ${local}`);
  const root = workDir(name);
  const base = path.resolve(root, dest ?? '.');
  if (!base.startsWith(root)) throw fail(`destination escapes the sandbox workdir: ${dest}`);
  const into = statSync(local).isDirectory() || !dest || dest.endsWith('/') || (existsSync(base) && statSync(base).isDirectory());
  const target = into ? path.join(base, path.basename(local)) : base;
  mkdirSync(path.dirname(target), { recursive: true });
  cpSync(local, target, { recursive: true });
  return { stderr: `✓ Upload complete\n` };
}

const ENV_KEY = /^[A-Za-z_][A-Za-z0-9_]*$/;
const MAX_STDIN = 4 * 1024 * 1024;
const shq = (s) => `'${s.replace(/'/g, `'\\''`)}'`;

/** crates/openshell-cli/src/run.rs sandbox_exec_grpc; runs `/bin/bash -lc '<escaped argv>'`. */
async function sandboxExec(args) {
  const u = 'sandbox exec [OPTIONS] -- <COMMAND>...';
  const p = parseArgs(args, {
    usage: u, positionals: [], trailing: 'required',
    flags: { '--name': { value: true, short: '-n' }, '--timeout': { value: true }, '--workdir': { value: true }, '--tty': {}, '--no-tty': {}, '--env': { value: true, repeat: true } },
  });
  const timeout = p.flags['--timeout'] ?? '0';
  if (!/^\d+$/.test(timeout)) throw clap(`invalid value '${timeout}' for '--timeout <TIMEOUT>': invalid digit found in string`, u);
  const env = {};
  for (const kv of p.flags['--env'] ?? []) {
    const [k, v] = kv.split(/=(.*)/s);
    if (v === undefined || !ENV_KEY.test(k)) throw clap(`invalid value '${kv}' for '--env <KEY=VALUE>'`, u);
    if (k.startsWith('OPENSHELL_')) throw grpc('InvalidArgument', `environment key '${k}' uses the reserved OPENSHELL_ prefix`, true);
    if (/[\0\n\r]/.test(v)) throw grpc('InvalidArgument', `environment value for '${k}' contains NUL or newline characters`, true);
    env[k] = v;
  }
  const name = p.flags['--name'];
  if (!name) throw new Exit(2, 'openshell-standin: Bulkhead always names the sandbox (-n)\n', '', true);
  gatewayFaults('exec');
  const r = requireSandbox(name);
  if (r.phase !== 'Ready') throw fail(`sandbox '${name}' is not ready (phase: ${r.phase}); wait for it to reach Ready state`);
  const stdin = await readStdin();
  if (stdin.length > MAX_STDIN) throw fail(`stdin payload exceeds ${MAX_STDIN} byte limit; pipe smaller inputs or use \`sandbox upload\``);
  // What the sandbox's supervisor gives every workload (crates/openshell-sandbox: proxy env): the
  // policy-enforcing proxy. One difference: the real NO_PROXY lists loopback, which inside a real
  // sandbox is the sandbox's own; here the command runs on the host, so loopback goes through the
  // proxy too, to be refused as the real proxy refuses it.
  const proxy = await startProxy(name, p.trailing[0]);
  const proxyEnv = { HTTP_PROXY: proxy.url, HTTPS_PROXY: proxy.url, ALL_PROXY: proxy.url, NO_PROXY: '', NODE_USE_ENV_PROXY: '1' };
  return new Promise((resolve) => {
    const child = spawn('/bin/bash', ['-c', p.trailing.map(shq).join(' ')], {
      cwd: workDir(name), stdio: ['pipe', 'inherit', 'inherit'],
      env: { PATH: process.env.PATH, HOME: workDir(name), ...proxyEnv, ...env },
    });
    proxy.pid = child.pid;
    child.stdin.on('error', () => {});
    child.stdin.end(stdin);
    let timedOut = false;
    // The gateway's timeout: exit 124 with no message.
    const t = Number(timeout) > 0 ? setTimeout(() => { timedOut = true; child.kill('SIGKILL'); }, Number(timeout) * 1000) : undefined;
    child.on('close', (code, signal) => {
      clearTimeout(t);
      proxy.close();
      // A signal death reports 1.
      resolve({ code: timedOut ? 124 : signal ? 1 : code ?? 1 });
    });
  });
}

// --- the sandbox proxy (crates/openshell-sandbox/src/proxy.rs, mechanistic_mapper.rs) -------------

/** is_always_blocked_destination / is_always_blocked_ip: loopback, link-local, unspecified; never allowed. */
function alwaysBlocked(host) {
  const h = host.replace(/^\[|\]$/g, '').toLowerCase();
  if (h === 'localhost' || h === 'localhost.') return true;
  if (net.isIPv4(h)) {
    const [a, b] = h.split('.').map(Number);
    return a === 127 || a === 0 || (a === 169 && b === 254);
  }
  if (net.isIPv6(h)) return h === '::1' || h === '::' || /^fe[89ab]/.test(h);
  return false;
}
const READ_METHODS = ['GET', 'HEAD', 'OPTIONS'];
/** The rule allowing host:port under the sandbox's CURRENT policy (live: re-read per connection). */
function ruleFor(name, host, port) {
  const rules = load(name)?.policy?.network_policies ?? {};
  for (const [key, rule] of Object.entries(rules)) {
    const ep = (rule.endpoints ?? []).find((e) => String(e.host).toLowerCase() === host.toLowerCase() && Number(e.port) === port);
    if (ep) return { key, ep };
  }
  return null;
}
/** OCSF shorthand, as `openshell logs --source sandbox` shows it (crates/openshell-sandbox ocsf). */
function deny(name, line) {
  appendFileSync(path.join(DIR, 'denials', name), line + '\n');
}
async function startProxy(name, bin) {
  const self = { pid: 0, url: '', close: () => {} };
  const actor = () => `${bin}(${self.pid})`;
  const check = (host, port) => {
    if (alwaysBlocked(host)) return { ok: false, reason: 'always-blocked destination (loopback/link-local)', policy: '-' };
    const r = ruleFor(name, host, port);
    return r ? { ok: true, rule: r } : { ok: false, reason: 'no matching network policy', policy: '-' };
  };
  const server = http.createServer((req, res) => {
    // Absolute-form plain HTTP: L4 check, then the endpoint's access (read-only allows reads only).
    let u;
    try {
      u = new URL(req.url);
    } catch {
      res.writeHead(400).end();
      return;
    }
    const port = Number(u.port || 80);
    const c = check(u.hostname, port);
    const readOnly = c.ok && c.rule.ep.access === 'read-only' && !READ_METHODS.includes(req.method);
    if (!c.ok || readOnly) {
      const reason = readOnly ? `read-only access forbids ${req.method}` : c.reason;
      deny(name, `HTTP:${req.method} [MED] DENIED ${actor()} -> ${req.method} http://${u.hostname}:${port}${u.pathname} [policy:${c.ok ? c.rule.key : '-'} engine:${readOnly ? 'l7' : 'opa'}] [reason:${reason}]`);
      res.writeHead(403, { 'content-type': 'text/plain' }).end('denied by policy\n');
      return;
    }
    const up = http.request({ host: u.hostname, port, path: u.pathname + u.search, method: req.method, headers: req.headers }, (r) => {
      res.writeHead(r.statusCode ?? 502, r.headers);
      r.pipe(res);
    });
    up.on('error', () => res.writeHead(502).end());
    req.pipe(up);
  });
  server.on('connect', (req, sock, head) => {
    const m = /^\[?([^\]]+?)\]?:(\d+)$/.exec(req.url ?? '');
    if (!m) return sock.end('HTTP/1.1 400 Bad Request\r\n\r\n');
    const [host, port] = [m[1], Number(m[2])];
    const c = check(host, port);
    if (!c.ok) {
      deny(name, `NET:OPEN [MED] DENIED ${actor()} -> ${host}:${port} [policy:${c.policy} engine:opa] [reason:${c.reason}]`);
      return sock.end('HTTP/1.1 403 Forbidden\r\n\r\n');
    }
    const up = net.connect(port, host, () => {
      sock.write('HTTP/1.1 200 Connection Established\r\n\r\n');
      if (head?.length) up.write(head);
      sock.pipe(up).pipe(sock);
    });
    up.on('error', () => sock.destroy());
    sock.on('error', () => up.destroy());
  });
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  self.url = `http://127.0.0.1:${server.address().port}`;
  self.close = () => server.close();
  server.unref();
  return self;
}

function readStdin() {
  return new Promise((resolve) => {
    if (process.stdin.isTTY) return resolve(Buffer.alloc(0));
    const chunks = [];
    process.stdin.on('data', (c) => chunks.push(c));
    process.stdin.on('end', () => resolve(Buffer.concat(chunks)));
    process.stdin.on('error', () => resolve(Buffer.concat(chunks)));
  });
}

/** crates/openshell-server/src/grpc/validation.rs validate_static_fields_unchanged. */
function staticProblem(base, next) {
  const b = base?.filesystem_policy;
  const n = next.filesystem_policy;
  if (b && !n) return 'filesystem policy cannot be removed on a live sandbox';
  if (b && n) {
    if (!!b.include_workdir !== !!n.include_workdir) return 'filesystem include_workdir cannot be changed on a live sandbox';
    for (const p of b.read_only ?? []) if (!(n.read_only ?? []).includes(p)) return `filesystem read_only path '${p}' cannot be removed on a live sandbox`;
    for (const p of b.read_write ?? []) if (!(n.read_write ?? []).includes(p)) return `filesystem read_write path '${p}' cannot be removed on a live sandbox`;
  }
  if (JSON.stringify(base?.landlock ?? null) !== JSON.stringify(next.landlock ?? null)) return 'landlock policy cannot be changed on a live sandbox (applied at startup)';
  if (JSON.stringify(base?.process ?? null) !== JSON.stringify(next.process ?? null)) return 'process policy cannot be changed on a live sandbox (applied at startup)';
  return null;
}

/** The `--wait` half of policy set/update (crates/openshell-cli/src/run.rs): 0 loaded, 1 failed, 124 timeout. */
function submit(name, r, nextPolicy, wait) {
  if (JSON.stringify(r.policy) === JSON.stringify(nextPolicy)) return { stderr: `· Policy unchanged (version ${r.version}, hash: ${hash(nextPolicy)})\n` };
  const version = r.version + 1;
  let stderr = `✓ Policy version ${version} submitted (hash: ${hash(nextPolicy)})\n`;
  if (!wait) {
    save({ ...r, policy: nextPolicy, version });
    return { stderr };
  }
  if (claim('policy', 'policy-timeout')) throw new Exit(124, stderr + `✗ Timeout waiting for policy version ${version} to load\n`);
  if (claim('policy', 'policy-failed')) throw new Exit(1, stderr + `✗ Policy version ${version} failed to load: L7 validation failed for endpoint\n`);
  save({ ...r, policy: nextPolicy, version });
  stderr += `✓ Policy version ${version} loaded (active version: ${version})\n`;
  return { stderr };
}
const hash = (doc) => createHash('sha256').update(JSON.stringify(doc)).digest('hex').slice(0, 12);

/** `policy set NAME --policy FILE`: network_policies replaced wholesale, static sections must match. */
function policySet(args) {
  const u = 'policy set [OPTIONS] [NAME]';
  const p = parseArgs(args, { usage: u, positionals: ['NAME?'], flags: { '--policy': { value: true }, '--global': {}, '--yes': {}, '--wait': {}, '--timeout': { value: true } } });
  const [name] = p.pos;
  if (!name || !p.flags['--policy']) throw new Exit(2, 'openshell-standin: Bulkhead always names the sandbox and the policy file\n', '', true);
  const next = loadPolicyFile(p.flags['--policy']);
  gatewayFaults('policy');
  const r = requireSandbox(name);
  const problem = staticProblem(r.baseline, next);
  if (problem) throw grpc('InvalidArgument', problem, true);
  return submit(name, r, next, !!p.flags['--wait']);
}

// `policy update` merge semantics (crates/openshell-cli/src/policy_update.rs,
// crates/openshell-policy/src/merge.rs): rule key allow_<host . and - as _>_<port>; adding to an
// existing rule unions binaries and KEEPS the existing access/protocol; one call is one revision.
function parseEndpoint(spec) {
  const parts = spec.split(':');
  if (parts.length < 2 || parts.length > 6) throw fail(`--add-endpoint expects host:port[:access[:protocol[:enforcement[:options]]]], got '${spec}'`);
  const [host, port, access = '', protocol = '', enforcement = ''] = parts.map((s) => s.trim());
  if (!host || !/^\d+$/.test(port) || Number(port) < 1 || Number(port) > 65535) throw fail(`--add-endpoint has an invalid host or port in '${spec}'`);
  if (access && !['read-only', 'read-write', 'full'].includes(access)) throw fail(`--add-endpoint access segment must be one of read-only, read-write, or full; got '${access}' in '${spec}'`);
  if (protocol && !['tcp', 'rest', 'websocket', 'sql'].includes(protocol)) throw fail(`--add-endpoint protocol segment must be 'tcp', 'rest', 'websocket', or 'sql'; got '${protocol}' in '${spec}'`);
  if (protocol === 'tcp' && (access || enforcement)) throw fail(`--add-endpoint protocol 'tcp' does not support access or enforcement in '${spec}'`);
  if (enforcement && !protocol) throw fail(`--add-endpoint cannot set enforcement without protocol in '${spec}'`);
  if (enforcement && !['enforce', 'audit'].includes(enforcement)) throw fail(`--add-endpoint enforcement segment must be 'enforce' or 'audit'; got '${enforcement}' in '${spec}'`);
  return { host, port: Number(port), ...(access && { access }), ...(protocol && { protocol }), ...(enforcement && { enforcement }) };
}
function policyUpdate(args) {
  const u = 'policy update [OPTIONS] [NAME]';
  const p = parseArgs(args, {
    usage: u, positionals: ['NAME?'],
    flags: {
      '--add-endpoint': { value: true, repeat: true }, '--remove-endpoint': { value: true, repeat: true }, '--add-allow': { value: true, repeat: true },
      '--add-deny': { value: true, repeat: true }, '--remove-rule': { value: true, repeat: true }, '--binary': { value: true, repeat: true },
      '--rule-name': { value: true }, '--dry-run': {}, '--wait': {}, '--timeout': { value: true },
    },
  });
  const [name] = p.pos;
  const add = (p.flags['--add-endpoint'] ?? []).map(parseEndpoint);
  const remove = (p.flags['--remove-endpoint'] ?? []).map((s) => {
    const [host, port] = s.split(':');
    if (!host || !/^\d+$/.test(port ?? '')) throw fail(`--remove-endpoint expects host:port, got '${s}'`);
    return { host, port: Number(port) };
  });
  const binaries = p.flags['--binary'] ?? [];
  if (binaries.length && !add.length) throw fail('--binary can only be used with --add-endpoint');
  if (!add.length && !remove.length && !(p.flags['--remove-rule'] ?? []).length) throw fail('policy update requires at least one operation flag');
  gatewayFaults('policy');
  const r = requireSandbox(name);
  const next = structuredClone(r.policy ?? { version: 1 });
  const rules = (next.network_policies ??= {});
  for (const rm of remove) {
    for (const [key, rule] of Object.entries(rules)) {
      rule.endpoints = rule.endpoints.filter((e) => !(e.host === rm.host && e.port === rm.port));
      if (!rule.endpoints.length) delete rules[key];
    }
  }
  for (const e of add) {
    const key = p.flags['--rule-name'] ?? `allow_${e.host.replace(/[.-]/g, '_')}_${e.port}`;
    const prev = rules[key];
    const prevBins = (prev?.binaries ?? []).map((b) => b.path);
    rules[key] = {
      name: prev?.name ?? key,
      // An existing endpoint keeps its access/protocol; a new one comes as asked.
      endpoints: prev?.endpoints?.some((x) => x.host === e.host && x.port === e.port) ? prev.endpoints : [...(prev?.endpoints ?? []), e],
      binaries: [...new Set([...prevBins, ...binaries])].map((path) => ({ path })),
    };
  }
  return submit(name, r, next, !!p.flags['--wait']);
}

/** `openshell logs NAME --source sandbox`: OCSF shorthand lines (the gateway keeps the last 2000). */
function logs(args) {
  const u = 'logs [OPTIONS] [NAME]';
  const p = parseArgs(args, { usage: u, positionals: ['NAME?'], flags: { '-n': { value: true }, '--tail': {}, '--since': { value: true }, '--source': { value: true, repeat: true }, '--level': { value: true } } });
  const [name] = p.pos;
  gatewayFaults('logs');
  const r = requireSandbox(name);
  let lines = [];
  try {
    lines = readFileSync(path.join(DIR, 'denials', name), 'utf8').split('\n').filter(Boolean);
  } catch {
    // none
  }
  const n = Math.min(Number(p.flags['-n'] ?? 200), 2000);
  const t = Math.floor(r.createdAtMs / 1000);
  return { stdout: lines.slice(-n).map((l, i) => `[${t + i}.${String(i % 1000).padStart(3, '0')}] [sandbox] [OCSF ] [ocsf] ${l}\n`).join('') };
}

const COMMANDS = {
  sandbox: { create: sandboxCreate, list: sandboxList, delete: sandboxDelete, upload: sandboxUpload, exec: sandboxExec },
  policy: { update: policyUpdate, set: policySet },
};

async function main() {
  // crates/openshell-cli/src/main.rs: tracing at "warn" by default, to STDOUT, unless RUST_LOG says otherwise.
  if (process.env.OPENSHELL_STANDIN_WARN && process.env.RUST_LOG !== 'error') {
    process.stdout.write(`${new Date().toISOString()}  WARN openshell_cli::tls: gateway certificate expires in 5 days\n`);
  }
  const [group, sub, ...rest] = argv;
  if (group === '--version' || group === '-V') return { stdout: `openshell ${VERSION}\n` };
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
  logCall({ ok: true, exit: r.code ?? 0 });
  process.exitCode = r.code ?? 0;
} catch (e) {
  if (!(e instanceof Exit)) throw e;
  if (e.stdout) process.stdout.write(e.stdout);
  process.stderr.write(e.stderr);
  // Usage errors (2) and violations mean our caller broke the contract; the rest are outcomes.
  logCall({ ok: e.code !== 2 && !e.violation, exit: e.code, error: e.stderr.trim() });
  process.exitCode = e.code;
}
