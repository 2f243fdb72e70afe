#!/usr/bin/env node
// A stand-in for `ant beta:worker run`, uploaded into the session sandbox as bin/ant (so it is
// CommonJS and uses Node built-ins only: nothing of the project is readable in there). It plays
// the brain's bash tool: `dispatch AGENT "TASK"` calls through /bin/bash, three at once and one
// after, and checks what comes back. The work item on stdin says how to behave (metadata).
'use strict';
const { execFile } = require('node:child_process');
const http = require('node:http');

const fail = (msg) => {
  process.stderr.write(`fake-ant: ${msg}\n`);
  process.exit(3);
};

function bash(cmd) {
  return new Promise((resolve) => {
    execFile('/bin/bash', ['-c', cmd], { timeout: 10 * 60_000 }, (err, stdout, stderr) =>
      resolve({ code: err ? (typeof err.code === 'number' ? err.code : 1) : 0, stdout, stderr }),
    );
  });
}

/** CONNECT through the sandbox proxy: the only way out, and it must refuse this target. */
function refused(target) {
  const proxy = new URL(process.env.HTTPS_PROXY || process.env.HTTP_PROXY || process.env.http_proxy);
  return new Promise((resolve) => {
    const req = http.request({ host: proxy.hostname, port: proxy.port, method: 'CONNECT', path: target, timeout: 5000 });
    req.on('connect', (res, socket) => {
      socket.destroy();
      resolve(res.statusCode !== 200);
    });
    req.on('error', () => resolve(true));
    req.on('timeout', () => {
      req.destroy();
      resolve(true);
    });
    req.end();
  });
}

async function main() {
  const args = process.argv.slice(2);
  if (args.join(' ') !== 'beta:worker run') fail(`expected "beta:worker run", got "${args.join(' ')}"`);
  for (const k of ['ANTHROPIC_SESSION_ID', 'ANTHROPIC_WORK_ID', 'ANTHROPIC_ENVIRONMENT_ID', 'ANTHROPIC_ENVIRONMENT_KEY']) {
    if (!process.env[k]) fail(`${k} missing from the environment`);
  }
  let input = '';
  for await (const c of process.stdin) input += c;
  const work = JSON.parse(input || '{}');
  if (work.data && work.data.id !== process.env.ANTHROPIC_SESSION_ID) fail('work item is for another session');
  const meta = work.metadata || {};

  if (meta.forbidden && !(await refused(meta.forbidden))) fail(`the sandbox reached ${meta.forbidden}`);

  if (meta.mode === 'hang') {
    // The specialist behind this dispatch never answers: the test sends SIGTERM meanwhile.
    await bash('dispatch log_agent "HANG until cancelled"');
    fail('the hanging dispatch returned');
  }

  const check = (r, agent, task) => {
    if (r.code !== 0) fail(`dispatch ${agent} exited ${r.code}: ${r.stderr}`);
    if (!r.stdout.includes(`${agent} looked at: ${task}`)) fail(`unexpected summary from ${agent}: ${r.stdout}`);
    if (r.stdout.includes('@example.com')) fail(`summary from ${agent} was not redacted: ${r.stdout}`);
  };
  const parallel = [
    ['metrics_agent', 'p99 latency of checkout-service'],
    ['log_agent', 'top errors since 14:28'],
    ['runbook_agent', 'past incidents like pool exhaustion'],
  ];
  const results = await Promise.all(parallel.map(([a, t]) => bash(`dispatch ${a} "${t}"`)));
  results.forEach((r, i) => check(r, parallel[i][0], parallel[i][1]));
  const last = await bash('bulkhead dispatch log_agent "NullPointerException counts"');
  check(last, 'log_agent', 'NullPointerException counts');

  const bad = await bash('dispatch payments_agent "anything"');
  if (bad.code !== 2 || !bad.stderr.includes('unknown agent')) fail(`an unknown agent was not refused: ${bad.code} ${bad.stderr}`);
  process.stdout.write(JSON.stringify({ summaries: [...results, last].map((r) => r.stdout.trim()) }) + '\n');
}

main().catch((e) => fail(e && e.stack ? e.stack : String(e)));
