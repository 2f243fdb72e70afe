import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { freePort } from '../../src/stack/ports';
import { supervise, waitReady } from '../../src/stack/proc';

/**
 * A real Alertmanager (Debian prometheus-alertmanager 0.25) with the given config, clustering off
 * (one instance), state in a temporary folder removed at stop.
 */
export async function startAlertmanager(configYaml: string, log?: (l: string) => void): Promise<{ url: string; port: number; stop(): Promise<void> }> {
  const dir = await mkdtemp(path.join(tmpdir(), 'bh-alertmanager-'));
  const config = path.join(dir, 'alertmanager.yml');
  await writeFile(config, configYaml);
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const proc = supervise(
    'prometheus-alertmanager',
    [`--config.file=${config}`, `--storage.path=${path.join(dir, 'data')}`, `--web.listen-address=127.0.0.1:${port}`, '--cluster.listen-address=', '--log.level=warn'],
    { log },
  );
  const stop = async () => {
    await proc.stop();
    await rm(dir, { recursive: true, force: true });
  };
  try {
    await waitReady(`alertmanager on ${url}`, proc, async () => (await fetch(`${url}/-/ready`)).ok, 30_000);
  } catch (e) {
    await stop();
    throw e;
  }
  return { url, port, stop };
}
