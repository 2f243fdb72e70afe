/**
 * One measurement in a fresh process, so its peak RSS is its own: `count` reads the files and
 * counts line breaks (the baseline: the cost of reading the bytes at all); `agent` runs the log
 * agent's whole evidence pass over them. Prints {lines, ms, maxRssMb} as JSON.
 */
import { createReadStream } from 'node:fs';
import { gatherFromSources } from '../agents/logs/gather';
import { listLogFiles } from '../agents/logs/read';
import { fileSource } from '../agents/logs/source';

async function countLines(dir: string): Promise<number> {
  let n = 0;
  for (const f of await listLogFiles(dir)) {
    for await (const chunk of createReadStream(f, { highWaterMark: 1 << 20 })) {
      const b = chunk as Buffer;
      for (let i = b.indexOf(10); i >= 0; i = b.indexOf(10, i + 1)) n++;
    }
  }
  return n;
}

const [mode, dir, start, end] = process.argv.slice(2);
const t0 = performance.now();
const cpu0 = process.cpuUsage();
let lines: number;
let detail: Record<string, unknown> = {};
if (mode === 'count') lines = await countLines(dir!);
else {
  const window = { startMs: Number(start), endMs: Number(end) };
  let read = 0;
  const g = await gatherFromSources([fileSource(dir!)], window, (m) => {
    const hit = /^read (\d+) lines/.exec(m);
    if (hit) read = Number(hit[1]);
  });
  lines = read;
  detail = { onset: g.evidence.onset, suspectedChange: g.evidence.suspectedChange, topError: g.evidence.topErrors[0]?.signature ?? null };
}
const ms = performance.now() - t0;
const used = process.cpuUsage(cpu0);
const cpuMs = (used.user + used.system) / 1000;
process.stdout.write(`${JSON.stringify({ lines, ms, cpuMs, maxRssMb: process.resourceUsage().maxRSS / 1024, ...detail })}\n`);
