import type { Config } from '../config';
import { InputError } from '../errors';
import { renderMarkdown } from '../report/markdown';
import { visibleText } from '../report/text';
import type { Report } from '../schemas/report';
import type { investigateIncident } from '../workflows';
import { connectClient, requireAddress } from './client';
import { follow, writeReport } from './investigate';
import { validateOut } from './validate-out';

async function handleFor(config: Config, id: string, command: string) {
  const { client, close } = await connectClient(requireAddress(config.TEMPORAL_ADDRESS, command), config.TEMPORAL_NAMESPACE);
  const handle = client.workflow.getHandle<typeof investigateIncident>(id);
  try {
    return { handle, description: await handle.describe(), close };
  } catch {
    await close();
    throw new InputError('ID', `no workflow ${id} in namespace ${config.TEMPORAL_NAMESPACE}`);
  }
}

/** `bulkhead watch ID`: live progress until the investigation ends. */
export async function watch(config: Config, id: string): Promise<number> {
  const { handle, close } = await handleFor(config, id, 'watch');
  try {
    const report = await follow(handle, (l) => console.log(visibleText(l, { multiline: true })));
    console.log(`\n${id}: ${report.status}`);
    return 0;
  } finally {
    await close();
  }
}

/** `bulkhead report ID`: the report of a finished investigation (its workflow result). */
export async function report(config: Config, id: string, outArg?: string): Promise<number> {
  // Checked before connecting, as `investigate` does (src/cli/validate-out.ts).
  const out = outArg === undefined ? undefined : await validateOut(outArg);
  const { handle, description, close } = await handleFor(config, id, 'report');
  try {
    if (description.status.name === 'RUNNING') throw new InputError('ID', `${id} is still running: \`bulkhead watch ${id}\``);
    const r: Report = await handle.result();
    if (out) {
      const files = await writeReport(out, r);
      console.log(`wrote ${files.json} and ${files.md}`);
    } else {
      console.log(renderMarkdown(r));
    }
    return 0;
  } finally {
    await close();
  }
}
