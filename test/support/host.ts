import { readdirSync, readFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';

/** Host pids (not zombies, not this process) whose argv mentions the text. */
export function hostPids(text: string): number[] {
  return readdirSync('/proc')
    .filter((e) => /^\d+$/.test(e) && Number(e) !== process.pid)
    .filter((e) => {
      try {
        const cmd = readFileSync(`/proc/${e}/cmdline`, 'utf8').replace(/\0/g, ' ');
        const state = readFileSync(`/proc/${e}/stat`, 'utf8').split(') ')[1]?.[0];
        return cmd.includes(text) && state !== 'Z';
      } catch {
        return false;
      }
    })
    .map(Number);
}

/** A loopback HTTP server answering every request with `body`: a stand-in for a real endpoint. */
export async function standIn(body: string): Promise<{ url: string; port: number; close: () => void }> {
  const s = http.createServer((_req, res) => res.end(body));
  await new Promise<void>((resolve) => s.listen(0, '127.0.0.1', resolve));
  const port = (s.address() as AddressInfo).port;
  return { url: `http://127.0.0.1:${port}`, port, close: () => s.close() };
}
