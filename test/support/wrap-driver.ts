import type { SandboxDriver } from '../../src/sandbox/driver';

/**
 * The inner driver with some operations replaced: what every fault, probe and stub wrapper in
 * the tests is, so each states only what it changes.
 */
export function wrapDriver(inner: SandboxDriver, overrides: Partial<SandboxDriver>): SandboxDriver {
  return {
    kind: inner.kind,
    limitations: inner.limitations,
    create: (spec) => inner.create(spec),
    exec: (id, argv, opts) => inner.exec(id, argv, opts),
    upload: (id, local, dest) => inner.upload(id, local, dest),
    applyPolicy: (id, policy) => inner.applyPolicy(id, policy),
    delete: (id) => inner.delete(id),
    list: () => inner.list(),
    denials: (id) => inner.denials(id),
    ...overrides,
  };
}
