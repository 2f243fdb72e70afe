import type { ExecOptions, SandboxDriver } from '../../src/sandbox/driver';
import type { SandboxRole } from '../../src/schemas/policy';
import { wrapDriver } from './wrap-driver';

const isAgentRun = (argv: string[]) => argv[1] === 'agent.mjs' && argv.length === 2;

/**
 * The real driver, except that just before the agent of `agent` runs, `script` runs in the same
 * sandbox under the same (run-phase) policy: what a prompt-injected agent would try first.
 * `script` is read at that moment, so it may name endpoints that exist only once the stack is up.
 */
export function withProbe(inner: SandboxDriver, agent: SandboxRole, script: () => string) {
  const agents = new Map<string, SandboxRole>();
  const probes: { id: string; exitCode: number; stderr: string }[] = [];
  const driver = wrapDriver(inner, {
    async create(spec) {
      agents.set(spec.id, spec.agent);
      return inner.create(spec);
    },
    async exec(id, argv, opts?: ExecOptions) {
      if (isAgentRun(argv) && agents.get(id) === agent && !probes.some((p) => p.id === id)) {
        const r = await inner.exec(id, ['/bin/sh', '-c', script()], { timeoutMs: 30_000 });
        probes.push({ id, exitCode: r.exitCode, stderr: r.stderr });
      }
      return inner.exec(id, argv, opts);
    },
  });
  return { driver, probes };
}
