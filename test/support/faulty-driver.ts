import { SandboxError, type ExecOptions, type SandboxDriver } from '../../src/sandbox/driver';
import { wrapDriver } from './wrap-driver';

export interface Faults {
  /** The first N agent runs exit 3 instead of running the agent. */
  failRuns?: number;
  /** The first N agent runs hang (until the exec timeout or cancellation). */
  hangRuns?: number;
  /** The first N creates fail with a transient error. */
  failCreates?: number;
  /** The first N agent self-checks (the end of install) exit 1: a transient install failure. */
  failSelfChecks?: number;
  /** Every install into a sandbox whose id matches fails permanently (a non-retryable driver error). */
  breakInstall?: RegExp;
  /** Every agent run in a sandbox whose id matches exits 3: a specialist that cannot finish. */
  breakRuns?: RegExp;
  /** The first N deletes fail with a transient error (the sandbox stays). */
  failDeletes?: number;
}

const isAgentRun = (argv: string[]) => argv[1] === 'agent.mjs' && argv.length === 2;
const isSelfCheck = (argv: string[]) => argv[1] === 'agent.mjs' && argv[2] === '--self-check';
const FAIL = ['/bin/sh', '-c', 'echo "injected failure" >&2; exit 3'];

/**
 * The real driver with injected faults: the commands still run inside real sandboxes, only the
 * agent's argv is swapped, so retries and cleanup are exercised against the real thing.
 */
export function withFaults(inner: SandboxDriver, faults: Faults) {
  const left = {
    fail: faults.failRuns ?? 0,
    hang: faults.hangRuns ?? 0,
    create: faults.failCreates ?? 0,
    selfCheck: faults.failSelfChecks ?? 0,
    del: faults.failDeletes ?? 0,
  };
  const calls = { runs: 0, creates: 0, installs: 0, deletes: 0, failedCreates: 0, failedInstalls: 0, failedDeletes: 0 };
  const driver = wrapDriver(inner, {
    async create(spec) {
      calls.creates++;
      if (left.create > 0) {
        left.create--;
        calls.failedCreates++;
        throw new Error('injected: create failed (transient)');
      }
      return inner.create(spec);
    },
    async exec(id, argv, opts?: ExecOptions) {
      if (isSelfCheck(argv) && left.selfCheck > 0) {
        left.selfCheck--;
        calls.failedInstalls++;
        return inner.exec(id, ['/bin/sh', '-c', 'echo "injected: self-check failed" >&2; exit 1'], opts);
      }
      if (isAgentRun(argv)) {
        calls.runs++;
        if (faults.breakRuns?.test(id)) return inner.exec(id, FAIL, opts);
        if (left.fail > 0) {
          left.fail--;
          return inner.exec(id, FAIL, opts);
        }
        if (left.hang > 0) {
          left.hang--;
          return inner.exec(id, ['/bin/sleep', '600'], opts);
        }
      }
      return inner.exec(id, argv, opts);
    },
    async upload(id, l, d) {
      calls.installs++;
      if (faults.breakInstall?.test(id)) {
        calls.failedInstalls++;
        throw new SandboxError(`injected: install into ${id} refused (permanent)`, 'PolicyRejected', false);
      }
      return inner.upload(id, l, d);
    },
    async delete(id) {
      calls.deletes++;
      if (left.del > 0) {
        left.del--;
        calls.failedDeletes++;
        throw new Error('injected: delete failed (transient)');
      }
      return inner.delete(id);
    },
  });
  return { driver, calls };
}
