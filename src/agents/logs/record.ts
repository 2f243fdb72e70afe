/** One log entry as every log source yields it (JSONL files and Loki alike). */
export interface LogRecord {
  /** Epoch milliseconds. */
  ts: number;
  labels: Record<string, string>;
  line: string;
  /** Plain-text lines: where the message starts, past the leading timestamp. */
  msgStart?: number;
  /**
   * Set by the reader's fast path: an INFO/DEBUG line that can be neither a change nor evidence,
   * counted by level and time only (its line is not kept).
   */
  quiet?: 'info' | 'debug';
  /** A tally of quiet lines (this record stands for `quietCount` lines from ts to quietLastTs). */
  quietCount?: number;
  quietLastTs?: number;
}

export interface TimeRange {
  startMs: number;
  endMs: number;
}

export const iso = (ms: number) => new Date(ms).toISOString().replace('.000Z', 'Z');
