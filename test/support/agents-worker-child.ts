// `bulkhead agents-worker` as the CLI runs it (src/cli/agents-worker.ts: config check, then
// startAgentsWorker), in a process of its own so tests can SIGKILL it, with one difference: the
// specialists' runner inside the real sandboxes is the stub (see stub-agents), plus a SLOW task
// prefix that answers after 6 s, so a test can kill the worker mid-dispatch.
import { agentsWorker } from '../../src/cli/agents-worker';
import { loadConfig } from '../../src/config';
import type { ExecOptions } from '../../src/sandbox/driver';
import { LocalDriver } from '../../src/sandbox/local';
import { withStubAgents } from './stub-agents';
import { wrapDriver } from './wrap-driver';

const config = loadConfig();
const local = new LocalDriver({ root: config.BULKHEAD_SANDBOX_ROOT });
const stub = withStubAgents(local);
const driver = wrapDriver(stub, {
  exec(id, argv, opts?: ExecOptions) {
    if (argv[1] === 'agent.mjs' && argv.length === 2 && opts?.stdin?.includes('"task":"SLOW')) {
      return new Promise((r) => setTimeout(r, 6000)).then(() => stub.exec(id, argv, opts));
    }
    return stub.exec(id, argv, opts);
  },
});
agentsWorker(config, process.env, { driver, policyDir: process.env.BH_TEST_POLICY_DIR }).then(
  (code) => process.exit(code),
  (e: unknown) => {
    console.error(`agents-worker: ${(e as Error).message}`);
    process.exit((e as { exitCode?: number }).exitCode ?? 1);
  },
);
