// Screenshots of the Temporal UI for one investigation, in headless Chromium (Debian `chromium`):
// the workflow list (summary: title · service · severity) and the workflow page (static details
// in markdown, current details, brain-turn and sandbox-step summaries). For a person to check
// what the UI shows; it starts its own embedded stack and tears it down.
//   npx tsx scripts/ui-screenshot.ts [OUT_DIR]        (default out/ui)
import { execFile } from 'node:child_process';
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import { Client, Connection } from '@temporalio/client';
import { loadConfig } from '../src/config';
import { scenarioDetails, uiSummary } from '../src/intake/start';
import { loadScenario } from '../src/scenario/load';
import { startEmbeddedStack } from '../src/stack/embedded';
import { REPO_ROOT } from '../src/stack/tools';

const run = promisify(execFile);
const CHROMIUM = process.env.CHROMIUM ?? '/usr/bin/chromium';

async function shoot(url: string, file: string): Promise<void> {
  // The UI is a single-page app: the virtual time budget lets it fetch and render before the shot.
  await run(CHROMIUM, [
    '--headless',
    '--no-sandbox',
    '--disable-gpu',
    '--disable-background-networking',
    '--disable-dev-shm-usage',
    '--hide-scrollbars',
    '--window-size=1600,1100',
    '--virtual-time-budget=20000',
    `--screenshot=${file}`,
    url,
  ], { timeout: 120_000 });
  console.log(`screenshot ${file}  (${url})`);
}

async function main(): Promise<void> {
  const outDir = path.resolve(process.argv[2] ?? path.join(REPO_ROOT, 'out/ui'));
  await mkdir(outDir, { recursive: true });
  const env = { ...process.env };
  delete env.TEMPORAL_ADDRESS;
  const config = loadConfig(env);
  const scenario = await loadScenario(path.join(REPO_ROOT, 'scenarios/checkout-outage'));
  const stack = await startEmbeddedStack({ config, omFiles: scenario.omFiles, log: (l) => console.log(l) });
  const connection = await Connection.connect({ address: stack.address });
  try {
    if (!stack.uiUrl) throw new Error('the embedded dev server has no UI');
    const client = new Client({ connection, namespace: config.TEMPORAL_NAMESPACE });
    const id = `incident-ui-${Date.now()}`;
    const { incident } = scenario;
    const handle = await client.workflow.start('investigateIncident', {
      taskQueue: config.BULKHEAD_TASK_QUEUE,
      workflowId: id,
      args: [{ scenarioDir: scenario.dir }],
      staticSummary: uiSummary(incident.title, incident.service, incident.severity),
      staticDetails: scenarioDetails(incident),
    });
    console.log(`investigation ${id} started; waiting for its report`);
    const report = (await handle.result()) as { status: string };
    console.log(`report: ${report.status}`);
    const ns = config.TEMPORAL_NAMESPACE;
    await shoot(`${stack.uiUrl}/namespaces/${ns}/workflows`, path.join(outDir, 'list.png'));
    const page = `${stack.uiUrl}/namespaces/${ns}/workflows/${encodeURIComponent(id)}/${handle.firstExecutionRunId}`;
    await shoot(`${page}/history`, path.join(outDir, 'workflow.png'));
    // Summary, details (what was reported) and current details (the report's headline), rendered as markdown.
    await shoot(`${page}/user-metadata`, path.join(outDir, 'metadata.png'));
  } finally {
    await connection.close();
    await stack.stop();
  }
}

main().then(
  () => process.exit(0),
  (e: unknown) => {
    console.error(e);
    process.exit(1);
  },
);
