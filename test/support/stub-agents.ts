import type { ExecOptions, SandboxDriver } from '../../src/sandbox/driver';
import { wrapDriver } from './wrap-driver';

const NODE = '/usr/bin/node';

/**
 * Inside the real sandbox, in place of the agent runner: echoes the task as a valid AgentResult,
 * with an email in it that the worker must redact; a task starting with HANG never answers.
 */
const STUB = `
let s = '';
process.stdin.on('data', (c) => (s += c)).on('end', () => {
  const i = JSON.parse(s);
  if (i.task.startsWith('HANG')) return setInterval(() => {}, 1000);
  const summary = i.agent + ' looked at: ' + i.task + ' (reported by alice@example.com)';
  process.stdout.write(JSON.stringify({ agent: i.agent, summary, summarizedBy: 'evidence', model: null, evidence: {}, warnings: [] }));
});`;

/**
 * The real driver with the specialists' runner swapped for STUB, so session tests exercise the
 * real sandboxes, policies, Updates and children without depending on the agents' data.
 */
export function withStubAgents(inner: SandboxDriver): SandboxDriver {
  return wrapDriver(inner, {
    exec(id, argv, opts?: ExecOptions) {
      if (argv[1] === 'agent.mjs' && argv[2] === '--self-check') return inner.exec(id, ['/bin/true'], opts);
      if (argv[1] === 'agent.mjs' && argv.length === 2) return inner.exec(id, [NODE, '-e', STUB], opts);
      return inner.exec(id, argv, opts);
    },
  });
}
