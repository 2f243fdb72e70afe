import { accessSync, constants } from 'node:fs';
import path from 'node:path';
import type { Config } from '../config';

/** The `ant` CLI on this worker's host: BULKHEAD_ANT_BIN, else the first `ant` on PATH. */
export function findAnt(config: Config, envPath = process.env.PATH ?? ''): string | null {
  const candidates = config.BULKHEAD_ANT_BIN
    ? [path.resolve(config.BULKHEAD_ANT_BIN)]
    : envPath.split(path.delimiter).filter(Boolean).map((d) => path.join(d, 'ant'));
  for (const c of candidates) {
    try {
      accessSync(c, constants.R_OK);
      return c;
    } catch {
      // next
    }
  }
  return null;
}
