import { createReadStream } from 'node:fs';
import { createGunzip } from 'node:zlib';

/** Line breaks exactly as node:readline (crlfDelay: Infinity) sees them: \r\n, \n or a lone \r. */
const EOL = /\r\n|\n|\r/g;

/**
 * A file's lines in batches, one batch per large chunk read. Same lines as readline gives, at a
 * fraction of its per-line cost (an event and a promise per line), and memory stays bounded by
 * the chunk size however large the file is.
 */
export async function* fileLineBatches(file: string, chunkBytes = 1 << 20): AsyncGenerator<string[]> {
  let rest = '';
  // .gz files are inflated as they stream: never whole in memory.
  const stream = file.endsWith('.gz')
    ? createReadStream(file, { highWaterMark: chunkBytes }).pipe(createGunzip({ chunkSize: chunkBytes })).setEncoding('utf8')
    : createReadStream(file, { encoding: 'utf8', highWaterMark: chunkBytes });
  for await (const chunk of stream) {
    const text = rest + (chunk as string);
    const lines: string[] = [];
    let start = 0;
    EOL.lastIndex = 0;
    for (let m = EOL.exec(text); m !== null; m = EOL.exec(text)) {
      // A \r ending the chunk may be the first half of a \r\n: wait for the next chunk.
      if (m[0] === '\r' && m.index === text.length - 1) break;
      lines.push(text.slice(start, m.index));
      start = EOL.lastIndex;
    }
    rest = text.slice(start);
    if (lines.length) yield lines;
  }
  // The last line needs no break after it; a trailing lone \r still ends a (possibly empty) line.
  if (rest.endsWith('\r')) yield [rest.slice(0, -1)];
  else if (rest !== '') yield [rest];
}
