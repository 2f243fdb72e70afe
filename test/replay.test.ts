import { readdir } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { REPO_ROOT } from '../src/stack/tools';
import { loadHistoryFile, replayHistories } from '../src/workers/replay';

const DIR = path.join(REPO_ROOT, 'test/histories');

// Recorded by scripts/record-histories.ts. A failure here means a workflow change would break
// executions already in flight: version it (patched()) or, if intended, re-record.
describe('recorded histories replay deterministically against the current workflow code', () => {
  it('replays every file in test/histories', async () => {
    const files = (await readdir(DIR)).filter((f) => f.endsWith('.json')).sort();
    expect(files.length).toBeGreaterThan(0);
    const histories = await Promise.all(files.map((f) => loadHistoryFile(path.join(DIR, f))));
    const types = new Set(histories.map((h) => h.history.events?.[0]?.workflowExecutionStartedEventAttributes?.workflowType?.name));
    expect([...types].sort()).toEqual(['investigateIncident', 'managedSession', 'runSpecialist']);
    const results = await replayHistories(histories);
    expect(results.filter((r) => r.error !== null)).toEqual([]);
    expect(results.length).toBe(files.length);
  });
});
