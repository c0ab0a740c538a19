import { describe, expect, it } from 'vitest';
import type { Survival } from '../faults/computeSurvival.ts';
import { formatSurvivalTable } from './formatSurvivalTable.ts';

const survival: Survival = {
  flows: { scheduled: 40, started: 40, ok: 38, okAfterRetry: 3, failed: 2, dropped: 0, droppedBy: {}, unaccounted: 0, successRate: 0.95 },
  failures: [{ step: 'upload_data', errorClass: 'http_5xx', count: 2 }],
  duringFaults: { flows: 20, ok: 18 },
  retries: 5,
  breaker: null,
  recovery: { ms: 1_200, windowEndAt: 1_800_000_010_000, recoveredAt: 1_800_000_011_200, flowsAfter: 10, note: 'recovered' },
  injected: 7,
};

describe('formatSurvivalTable', () => {
  it('marks a scenario whose load generator fell behind INVALID, with the reasons under the table', () => {
    const text = formatSurvivalTable([
      { name: 'storage-5xx', pass: true, survival, verdicts: [] },
      { name: 'relay-down', pass: false, survival, verdicts: [], invalid: 'INVALID: the load generator fell behind: event-loop lag p99 900ms over the 500ms limit at 0:20–0:40' },
    ]);
    const [, first, second] = text.split('\n');
    expect(first).toMatch(/^storage-5xx +PASS +40 +38 +3 +2 +0 +95\.0%/);
    expect(second).toMatch(/^relay-down +INVALID +40 /);
    expect(text).toContain('  relay-down:\n    INVALID: the load generator fell behind: event-loop lag p99 900ms over the 500ms limit at 0:20–0:40');
    expect(text).not.toContain('  storage-5xx:');
  });
});
