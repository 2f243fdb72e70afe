import { randomBytes } from 'node:crypto';
import type { Config } from '../config';
import { InputError } from '../errors';
import { loadScenario } from '../scenario/load';
import { AgentName, type Sources } from '../schemas/agent';
import { createDriver } from '../sandbox';
import { loadPolicy, resolvePolicy } from '../sandbox/policy';
import { isLabelValue, LABEL, stackIdentity } from '../sandbox/labels';
import { reapOrphans } from '../sandbox/reap';
import { forStack } from '../sandbox/stack';
import { kindBase, sandboxName } from '../workflows/ids';
import { parseFlags } from './args';
import { onInterrupt, signalExitCode } from './interrupt';
import { connectClient } from './client';

/** `bulkhead sandbox run|list|reap`: the operator's view of the security boundary. */
export async function sandboxCommand(config: Config, argv: string[]): Promise<number> {
  const [sub, ...rest] = argv;
  // The same identity as a worker on this Temporal address, so `reap` judges that stack's
  // sandboxes and no one else's; without an address the CLI is its own stack (`sandbox run`).
  const stack = stackIdentity({ address: config.TEMPORAL_ADDRESS ?? 'bulkhead-cli', namespace: config.TEMPORAL_NAMESPACE, override: config.BULKHEAD_STACK });
  const driver = forStack(await createDriver(config), stack);
  switch (sub) {
    case 'list': {
      // Every sandbox the driver sees, with the stack it belongs to: the reaper acts on this stack's only.
      const all = await driver.inner.list();
      if (!all.length) console.log('no sandboxes');
      for (const s of all) {
        const of = s.labels[LABEL.stack] ? (s.labels[LABEL.stack] === stack ? `${s.labels[LABEL.stack]} (this stack)` : s.labels[LABEL.stack]) : 'not bulkhead\'s';
        console.log(`${s.id}\t${s.agent ?? '-'}\t${s.owner ?? '-'}\t${of}\t${s.createdAt ?? '-'}\t${s.alive ? 'alive' : 'orphaned process'}`);
      }
      return 0;
    }
    case 'reap': {
      const { graceMs, stack: asStack } = reapFlags(rest);
      // `--stack ID` acts as that stack (e.g. a crashed embedded run's, as `sandbox list` names it).
      const reaper = asStack ? forStack(driver.inner, asStack) : driver;
      const conn = config.TEMPORAL_ADDRESS ? await connectClient(config.TEMPORAL_ADDRESS, config.TEMPORAL_NAMESPACE) : null;
      if (!conn) console.log('no TEMPORAL_ADDRESS: deleting only sandboxes whose process is gone');
      try {
        const r = await reapOrphans(reaper, conn?.client ?? null, graceMs, asStack ?? stack);
        for (const id of r.deleted) console.log(`deleted ${id}`);
        console.log(`${r.deleted.length} deleted, ${r.kept.length} kept`);
        return 0;
      } finally {
        await conn?.close();
      }
    }
    case 'run':
      return run(config, driver, rest);
    default:
      throw new InputError('sandbox', 'expected `run`, `list` or `reap`');
  }
}

/**
 * `--grace-seconds S`: sandboxes younger than this are kept even if no running workflow claims
 * them (visibility may lag); 0 right after a `temporal workflow terminate`. Default 120.
 * `--stack ID`: reap as that stack instead of this one.
 */
function reapFlags(argv: string[]): { graceMs?: number; stack?: string } {
  const { values } = parseFlags({ args: argv, options: { 'grace-seconds': { type: 'string' }, stack: { type: 'string' } }, strict: true });
  const raw = values['grace-seconds'];
  const stack = values.stack;
  if (stack !== undefined && !isLabelValue(stack)) throw new InputError('--stack', 'a stack identity as `sandbox list` shows it');
  if (raw === undefined) return { stack };
  const s = Number(raw);
  if (!/^\d+$/.test(raw) || !Number.isSafeInteger(s)) throw new InputError('--grace-seconds', 'a whole number of seconds');
  return { graceMs: s * 1000, stack };
}

async function run(config: Config, driver: Awaited<ReturnType<typeof createDriver>>, argv: string[]): Promise<number> {
  const parsed = parseFlags({ args: argv, options: { agent: { type: 'string' }, scenario: { type: 'string' } }, allowPositionals: true });
  const agent = AgentName.safeParse(parsed.values.agent);
  if (!agent.success) throw new InputError('--agent', `one of ${AgentName.options.join(', ')}`);
  const cmd = parsed.positionals;
  if (!cmd.length) throw new InputError('CMD', 'give the command after --');
  const sources: Sources = parsed.values.scenario ? (await loadScenario(parsed.values.scenario)).sources : {};
  const targets = { model: config.BULKHEAD_MODEL_URL, prometheus: config.PROMETHEUS_URL, loki: config.LOKI_URL };
  const policy = resolvePolicy(await loadPolicy(agent.data), 'run', targets, sources);

  const id = sandboxName(kindBase('c', randomBytes(16).toString('hex')), 0);
  // Deleted on every path: a signal aborts the command, and the finally below deletes; a second
  // signal deletes at once and exits.
  const abort = new AbortController();
  const interrupt = onInterrupt({
    first: () => abort.abort(),
    second: () => {
      void driver.delete(id).finally(() => process.exit(signalExitCode(interrupt.signal)));
    },
  });
  try {
    await driver.create({ id, agent: agent.data, owner: 'cli', readOnly: policy.readOnly });
    if (interrupt.count) return signalExitCode(interrupt.signal);
    await driver.applyPolicy(id, policy);
    console.error(`sandbox ${id} (${driver.kind}), policy ${agent.data}: ${policy.endpoints.map((e) => `${e.host}:${e.port}`).join(', ') || 'no network'}`);
    const r = await driver.exec(id, cmd, { timeoutMs: 120_000, signal: abort.signal }).catch((e: unknown) => {
      if (interrupt.count) return null;
      throw e;
    });
    if (!r) {
      console.error(`interrupted (${interrupt.signal})`);
      return signalExitCode(interrupt.signal);
    }
    process.stdout.write(r.stdout);
    process.stderr.write(r.stderr);
    const denials = await driver.denials(id);
    for (const d of denials) console.error(`refused: ${d.host}:${d.port}${d.binary ? ` (${d.binary})` : ''}: ${d.reason}`);
    if (r.timedOut) console.error('timed out');
    if (interrupt.count) {
      console.error(`interrupted (${interrupt.signal})`);
      return signalExitCode(interrupt.signal);
    }
    return r.exitCode;
  } finally {
    await driver.delete(id);
    const still = (await driver.list()).some((s) => s.id === id);
    console.error(still ? `sandbox ${id} could NOT be deleted: \`bulkhead sandbox reap\` removes it` : `sandbox ${id} deleted`);
    interrupt.dispose();
  }
}
