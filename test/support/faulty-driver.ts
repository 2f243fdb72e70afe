import type { ExecOptions, SandboxDriver } from '../../src/sandbox/driver';

export interface Faults {
  /** The first N agent runs exit 3 instead of running the agent. */
  failRuns?: number;
  /** The first N agent runs hang (until the exec timeout or cancellation). */
  hangRuns?: number;
  /** The first N creates fail with a transient error. */
  failCreates?: number;
}

const isAgentRun = (argv: string[]) => argv[1] === 'agent.mjs' && argv.length === 2;

/**
 * The real driver with injected faults: the commands still run inside real sandboxes, only the
 * agent's argv is swapped, so retries and cleanup are exercised against the real thing.
 */
export function withFaults(inner: SandboxDriver, faults: Faults) {
  const left = { fail: faults.failRuns ?? 0, hang: faults.hangRuns ?? 0, create: faults.failCreates ?? 0 };
  const calls = { runs: 0, creates: 0 };
  const driver: SandboxDriver = {
    kind: inner.kind,
    limitations: inner.limitations,
    async create(spec) {
      calls.creates++;
      if (left.create > 0) {
        left.create--;
        throw new Error('injected: create failed (transient)');
      }
      return inner.create(spec);
    },
    async exec(id, argv, opts?: ExecOptions) {
      if (isAgentRun(argv)) {
        calls.runs++;
        if (left.fail > 0) {
          left.fail--;
          return inner.exec(id, ['/bin/sh', '-c', 'echo "injected failure" >&2; exit 3'], opts);
        }
        if (left.hang > 0) {
          left.hang--;
          return inner.exec(id, ['/bin/sleep', '600'], opts);
        }
      }
      return inner.exec(id, argv, opts);
    },
    upload: (id, l, d) => inner.upload(id, l, d),
    applyPolicy: (id, p) => inner.applyPolicy(id, p),
    delete: (id) => inner.delete(id),
    list: () => inner.list(),
    denials: (id) => inner.denials(id),
  };
  return { driver, calls };
}
