import { createInterface } from 'node:readline';
import { InputError } from '../errors';
import { openRegular, type CheckedFile } from './files';

/**
 * Series a scenario may carry in all its .om files together. promtool's memory grows with the
 * series count (a 1M-series file took it to ~2.9 GB); real incident exports are in the hundreds.
 */
export const MAX_OM_SERIES = 50_000;
/** One sample line longer than this is not OpenMetrics a person exported. */
export const MAX_OM_LINE_CHARS = 64 * 1024;

/** `name{labels}` of a sample line (values and timestamps excluded), or null for comments. */
export function seriesKey(line: string): string | null {
  if (!line || line.startsWith('#')) return null;
  const brace = line.indexOf('{');
  const space = line.indexOf(' ');
  if (brace >= 0 && (space < 0 || brace < space)) {
    const close = line.lastIndexOf('}');
    return close > brace ? line.slice(0, close + 1) : line;
  }
  return space < 0 ? line : line.slice(0, space);
}

/**
 * Checks OpenMetrics files before promtool (a host binary outside any sandbox) is run on them:
 * regular files inside the scenario (see files.ts), lines of bounded length, at most
 * MAX_OM_SERIES distinct series in all files, each ending in `# EOF`. Streams, so memory stays
 * bounded by the series limit whatever the file size.
 */
export async function checkOmFiles(files: CheckedFile[], maxSeries = MAX_OM_SERIES): Promise<void> {
  const series = new Set<string>();
  for (const f of files) {
    const fh = await openRegular(f.path, f.rel);
    try {
      const lines = createInterface({ input: fh.createReadStream({ encoding: 'utf8', autoClose: false }), crlfDelay: Infinity });
      let last = '';
      let n = 0;
      for await (const line of lines) {
        n++;
        if (line.length > MAX_OM_LINE_CHARS) throw new InputError(`${f.rel}:${n}`, `line longer than ${MAX_OM_LINE_CHARS} characters`);
        if (line.trim()) last = line.trim();
        const key = seriesKey(line);
        if (key !== null && !series.has(key)) {
          series.add(key);
          if (series.size > maxSeries) {
            throw new InputError(f.rel, `more than ${maxSeries} distinct series in the scenario's metrics; the limit is ${maxSeries}`);
          }
        }
      }
      if (last !== '# EOF') throw new InputError(f.rel, 'OpenMetrics text must end with "# EOF"');
    } finally {
      await fh.close();
    }
  }
}
