// Runs INSIDE the sandbox as bwrap's command, as the sandbox's unprivileged uid. Copied into the sandbox state dir at create
// time (the project is not readable in there), so it imports node built-ins only.
// Protocol: JSON lines. stdin: {id, argv, env, stdin, timeoutMs, cwd} or {id, kill: true}.
// stdout: {ready: true} once, then {id, stderrChunk} while running and {id, exitCode, stdout,
// stderr, timedOut} at the end. Nothing else may reach stdout: the driver parses every line.
import { spawn } from 'node:child_process';
import net from 'node:net';
import { createInterface } from 'node:readline';

const children = new Map();
const baseEnv = { ...process.env };
const send = (msg) => process.stdout.write(JSON.stringify(msg) + '\n');

function killGroup(child, signal) {
  // Each command leads its own process group so a timeout takes its descendants too.
  try {
    process.kill(-child.pid, signal);
  } catch {
    try { child.kill(signal); } catch { /* already gone */ }
  }
}

function run(req) {
  const { id, argv, env = {}, stdin, timeoutMs, cwd } = req;
  let child;
  try {
    child = spawn(argv[0], argv.slice(1), {
      cwd: cwd || process.env.HOME,
      env: { ...baseEnv, ...env },
      stdio: ['pipe', 'pipe', 'pipe'],
      detached: true,
    });
  } catch (e) {
    send({ id, exitCode: 127, stdout: '', stderr: String(e && e.message), timedOut: false });
    return;
  }
  const entry = { child, timedOut: false, timer: null, killTimer: null };
  children.set(id, entry);
  const out = [];
  const err = [];
  child.stdout.on('data', (c) => out.push(c));
  child.stderr.on('data', (c) => {
    err.push(c);
    send({ id, stderrChunk: c.toString('utf8') });
  });
  child.stdin.on('error', () => {});
  if (stdin) child.stdin.end(stdin);
  else child.stdin.end();
  if (timeoutMs && timeoutMs > 0) {
    entry.timer = setTimeout(() => {
      entry.timedOut = true;
      terminate(entry);
    }, timeoutMs);
  }
  let spawnError = null;
  child.on('error', (e) => { spawnError = e; });
  child.on('close', (code, signal) => {
    clearTimeout(entry.timer);
    clearTimeout(entry.killTimer);
    children.delete(id);
    let stderr = Buffer.concat(err).toString('utf8');
    let exitCode = code ?? (signal ? 128 + (signalNumber[signal] ?? 0) : 1);
    if (spawnError) {
      exitCode = spawnError.code === 'ENOENT' ? 127 : 126;
      stderr += `${argv[0]}: ${spawnError.message}\n`;
    }
    send({ id, exitCode, stdout: Buffer.concat(out).toString('utf8'), stderr, timedOut: entry.timedOut, signal: signal ?? null });
  });
}

const signalNumber = { SIGHUP: 1, SIGINT: 2, SIGQUIT: 3, SIGABRT: 6, SIGKILL: 9, SIGSEGV: 11, SIGPIPE: 13, SIGTERM: 15, SIGXCPU: 24 };

function terminate(entry) {
  killGroup(entry.child, 'SIGTERM');
  entry.killTimer = setTimeout(() => killGroup(entry.child, 'SIGKILL'), 1000);
}

const rl = createInterface({ input: process.stdin, crlfDelay: Infinity });
rl.on('line', (line) => {
  let req;
  try {
    req = JSON.parse(line);
  } catch {
    return;
  }
  if (req.kill) {
    const entry = children.get(req.id);
    if (entry) terminate(entry);
    return;
  }
  if (!Array.isArray(req.argv) || req.argv.length === 0) {
    send({ id: req.id, exitCode: 127, stdout: '', stderr: 'empty argv\n', timedOut: false });
    return;
  }
  run(req);
});
// The controlling worker is gone: nothing can collect results any more, so leave nothing behind.
rl.on('close', () => {
  for (const entry of children.values()) killGroup(entry.child, 'SIGKILL');
  process.exit(0);
});

// The network namespace has only loopback: the proxy port here is bridged to the host-side
// egress proxy's unix socket, which decides what may pass.
const bridge = net.createServer((c) => {
  const up = net.connect(process.env.BULKHEAD_PROXY_SOCKET);
  c.on('error', () => up.destroy());
  up.on('error', () => c.destroy());
  c.pipe(up);
  up.pipe(c);
});
bridge.on('error', () => {});
bridge.listen(Number(process.env.BULKHEAD_PROXY_PORT), '127.0.0.1', () => send({ ready: true }));
