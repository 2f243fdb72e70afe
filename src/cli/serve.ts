import type { Config } from '../config';
import { InputError } from '../errors';
import { createIntakeServer } from '../intake/server';
import { loadConfigFile } from '../live/config-file';
import { startEmbeddedStack } from '../stack/embedded';
import { connectClient } from './client';
import { uiLink } from './investigate';

/** HOST:PORT, [v6]:PORT or :PORT; 127.0.0.1:9095 by default. */
export function parseListen(text: string): { host: string; port: number } {
  const m = /^(?:\[([^\]]+)\]|([^:]*)):(\d{1,5})$/.exec(text);
  const port = m ? Number(m[3]) : NaN;
  if (!m || port > 65535) throw new InputError('--listen', `${text} is not HOST:PORT (e.g. 127.0.0.1:9095)`);
  return { host: m[1] ?? (m[2] || '0.0.0.0'), port };
}

/**
 * `bulkhead serve`: the Alertmanager intake. With TEMPORAL_ADDRESS it uses that server (its
 * workers run the investigations); without, it runs the embedded stack for as long as it runs.
 */
export async function serve(config: Config, opts: { listen?: string; config?: string }): Promise<number> {
  const listen = parseListen(opts.listen ?? '127.0.0.1:9095');
  const { config: cfg, file } = await loadConfigFile(opts.config);
  const log = (l: string) => console.log(l);
  log(`config: ${file ?? '(none: no ./bulkhead.yaml; every source is not configured)'}`);
  const stack = config.TEMPORAL_ADDRESS ? null : await startEmbeddedStack({ config, omFiles: [], log });
  const { client, close } = await connectClient(config.TEMPORAL_ADDRESS ?? stack!.address, config.TEMPORAL_NAMESPACE);
  const uiUrl = stack ? stack.uiUrl : (process.env.BULKHEAD_UI_URL ?? null);
  const server = createIntakeServer({
    client,
    taskQueue: config.BULKHEAD_TASK_QUEUE,
    config: cfg,
    token: process.env.BULKHEAD_SERVE_TOKEN || undefined,
    linkFor: (id) => uiLink(uiUrl, config.TEMPORAL_NAMESPACE, id) ?? (cfg.intake.link_base ? `${cfg.intake.link_base.replace(/\/$/, '')}/v1/investigations/${encodeURIComponent(id)}/report.md` : null),
    log,
  });
  const shutdown = async () => {
    await new Promise<void>((r) => server.close(() => r()));
    await close();
    await stack?.stop();
  };
  try {
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(listen.port, listen.host, () => resolve());
    });
  } catch (e) {
    await shutdown();
    throw new InputError('--listen', `cannot listen on ${opts.listen ?? '127.0.0.1:9095'}: ${(e as Error).message}`);
  }
  const addr = server.address();
  const where = typeof addr === 'object' && addr ? `${addr.address.includes(':') ? `[${addr.address}]` : addr.address}:${addr.port}` : String(addr);
  log(`bulkhead serve listening on http://${where} (POST /v1/alertmanager${process.env.BULKHEAD_SERVE_TOKEN ? ', bearer token required' : ''})`);
  await new Promise<void>((resolve) => {
    const stop = () => {
      process.off('SIGINT', stop);
      process.off('SIGTERM', stop);
      resolve();
    };
    process.on('SIGINT', stop);
    process.on('SIGTERM', stop);
  });
  log(stack ? 'stopping the embedded stack (its investigations go with it)' : 'stopping: running investigations stay in Temporal and resume with the next worker');
  server.closeAllConnections();
  await shutdown();
  return 0;
}
