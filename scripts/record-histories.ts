// Records workflow histories into test/histories/ for test/replay.test.ts, on a fresh embedded
// stack: an offline investigation of scenarios/checkout-outage (real agents, real sandboxes) and
// a Managed Agents work item claimed by the agents-worker from the API stand-in
// (test/support/managed-agents-standin.ts), whose scripted brain dispatches three specialists in
// one command and one more (specialists stubbed inside their real sandboxes). Re-record after an intended, versioned change to workflow code:
//   npx tsx scripts/record-histories.ts
import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { Client, Connection } from '@temporalio/client';
import { loadConfig } from '../src/config';
import { LocalDriver } from '../src/sandbox/local';
import { omFilesOf, startPrometheus } from '../src/stack/prometheus';
import { startDevServer } from '../src/stack/temporal';
import { REPO_ROOT, temporalBin } from '../src/stack/tools';
import { createWorker } from '../src/workers/worker';
import { historyFileName } from '../src/workers/replay';
import { startAgentsWorker } from '../src/workers/agents';
import { startStandin } from '../test/support/managed-agents-standin';
import { withStubAgents } from '../test/support/stub-agents';

const run = promisify(execFile);
const OUT = path.join(REPO_ROOT, 'test/histories');
const SCENARIO = path.join(REPO_ROOT, 'scenarios/checkout-outage');

/** Exactly what an operator gets from `temporal workflow show --output json`. */
async function save(address: string, workflowId: string): Promise<void> {
  const { stdout } = await run(temporalBin(), ['workflow', 'show', '--address', address, '--workflow-id', workflowId, '--output', 'json'], {
    maxBuffer: 64 * 1024 * 1024,
  });
  const file = path.join(OUT, historyFileName(workflowId));
  await writeFile(file, stdout);
  console.log(`saved ${path.relative(REPO_ROOT, file)}`);
}

async function children(client: Client, parent: string): Promise<string[]> {
  const ids: string[] = [];
  for await (const wf of client.workflow.list({ query: `WorkflowId STARTS_WITH "${parent}/"` })) ids.push(wf.workflowId);
  return ids.sort();
}

async function main(): Promise<void> {
  const server = await startDevServer({ uiPort: false });
  const api = await startStandin({ environmentId: 'env_record' });
  const prom = await startPrometheus({ omFiles: await omFilesOf(SCENARIO) });
  const scratch = await mkdtemp(path.join(tmpdir(), 'bh-record-'));
  const config = loadConfig({
    TEMPORAL_ADDRESS: server.address,
    BULKHEAD_SANDBOX_ROOT: path.join(scratch, 'sandboxes'),
    BULKHEAD_STATE_DIR: path.join(scratch, 'state'),
    PROMETHEUS_URL: prom.url,
    ANTHROPIC_BASE_URL: api.url,
    BULKHEAD_SESSION_MAX_IDLE_MS: '1500',
  });
  const real = new LocalDriver({ root: path.join(scratch, 'sandboxes') });
  const stubbed = new LocalDriver({ root: path.join(scratch, 'sandboxes-stubbed') });
  const investigation = await createWorker({ config, address: server.address, driver: real, taskQueue: 'record-investigation' });
  const session = await startAgentsWorker({
    config,
    address: server.address,
    environmentId: api.environmentId,
    environmentKey: api.environmentKey,
    driver: withStubAgents(stubbed),
    taskQueue: 'record-session',
  });
  const running = [investigation.worker.run(), session.run()];
  const connection = await Connection.connect({ address: server.address });
  const client = new Client({ connection });
  try {
    await mkdir(OUT, { recursive: true });
    for (const f of await readdir(OUT)) if (f.endsWith('.json')) await rm(path.join(OUT, f));

    const incident = 'incident-record-checkout-outage';
    const h = await client.workflow.start('investigateIncident', { taskQueue: 'record-investigation', workflowId: incident, args: [{ scenarioDir: SCENARIO }] });
    const report = await h.result();
    console.log(`${incident}: ${report.status}`);

    const { workId } = api.addSession(
      [
        'dispatch metrics_agent "p99 latency of checkout-service" & dispatch log_agent "top errors since 14:28" & dispatch runbook_agent "past incidents like pool exhaustion" & wait',
        'dispatch log_agent "NullPointerException counts"',
      ],
      'sesn_record',
      'work_record',
    );
    // The poller starts the workflow when it claims the item.
    while (!(await client.workflow.getHandle(`work-${workId}`).describe().catch(() => null))) await new Promise((r) => setTimeout(r, 200));
    const out = await client.workflow.getHandle(`work-${workId}`).result();
    console.log(`work-${workId}: ${out.end}, ${out.dispatches.length} dispatches`);

    for (const id of [incident, ...(await children(client, incident)), `work-${workId}`, ...(await children(client, `work-${workId}`))]) {
      await save(server.address, id);
    }
  } finally {
    investigation.worker.shutdown();
    session.shutdown();
    await client.workflow.getHandle(`agents-poll-${api.environmentId}`).terminate('recorded').catch(() => undefined);
    await Promise.allSettled(running);
    await investigation.close();
    await session.close();
    await connection.close();
    await prom.stop();
    await api.close();
    await server.stop();
    for (const d of [real, stubbed]) for (const s of await d.list()) await d.delete(s.id);
    await rm(scratch, { recursive: true, force: true });
  }
}

main().then(
  () => process.exit(0),
  (e) => {
    console.error(e);
    process.exit(1);
  },
);
