import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { compareRuns, type RunComparison } from './compare.ts';
import { writeCompareFixture } from '../../test/fixtures/compareFixture.ts';
import { formatCompareReport } from './compareTable.ts';
import { judgeRegressions, parseMaxRegression } from './maxRegression.ts';
import { readCompareRun } from './readCompareRun.ts';

let root: string;
let comparison: RunComparison;
beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'compare-table-'));
  await writeCompareFixture(join(root, 'base'), { flows: 200, seed: 1 });
  await writeCompareFixture(join(root, 'slow'), { flows: 200, seed: 1, stepScale: { inference_wait: 1.5 }, failEvery: { every: 25, step: 'confirm', errorClass: 'timeout' }, environment: { node: 'v22.0.0' } });
  comparison = compareRuns(await readCompareRun(join(root, 'base')), await readCompareRun(join(root, 'slow')));
});
afterAll(async () => rm(root, { recursive: true, force: true }));

describe('formatCompareReport', () => {
  it('prints aligned plain text with the differences, the settings that differ and a last line saying the exit code', () => {
    const verdicts = judgeRegressions(comparison, ['inference_wait.p50:+10%', 'relay.p95:+50%', 'success_rate:-10%'].map(parseMaxRegression));
    const text = formatCompareReport(comparison, { verdicts, htmlPath: 'x/compare.html' });
    const lines = text.split('\n');
    expect(text).not.toContain('\u001b[');
    expect(lines).toContain('  ⚠️  node version: baseline v20.19.0, candidate v22.0.0');
    expect(lines.find((l) => l.startsWith('  inference_wait'))).toMatch(/^  inference_wait +200\/192 +[01]\.\d\d  p50 +\S+ +\S+ +\+\S+ +\+\d+\.\d% +\[\+\S+, \+\S+\] +<0\.001 \*$/);
    expect(lines).toContain('  confirm.timeout         0          8');
    // Every latency row has its stat and its Δ where the header has them.
    const header = lines.find((l) => l.startsWith('  step'))!;
    const rows = lines.filter((l) => / (p50|p95|p99|avg) /.test(l) && /ms|s /.test(l));
    expect(rows).toHaveLength(4 * 12);
    for (const row of rows) expect(row.search(/ (p50|p95|p99|avg) /) + 1).toBe(header.indexOf(' stat ') + 1);
    // Right-aligned: each Δ ends where the header's Δ does.
    const end = header.indexOf(' Δ ') + 2;
    for (const row of rows) expect([row[end - 1] !== ' ', row[end]]).toEqual([true, ' ']);
    expect(lines.find((l) => l.includes('inference_wait.p50:+10%'))).toMatch(/^ {2}❌ {2}inference_wait\.p50:\+10% {2}REGRESSED {2}\+\S+ \(\+\d+\.\d%\), 95% CI \[\+\S+, \+\S+\], p <0\.001: beyond the tolerance and significant$/);
    expect(lines.find((l) => l.includes('relay.p95:+50%'))).toMatch(/ ok +\S+ \([+-]\d+\.\d%\), 95% CI .*: within the tolerance$/);
    expect(lines.find((l) => l.includes('success_rate:-10%'))).toMatch(/ ok +-4\.0pp, 95% CI .*: within the tolerance$/);
    expect(lines.at(-3)).toMatch(/^COMPARE: REGRESSION in inference_wait\.p50 \+\S+ \(\+\d+\.\d%\): exit 1$/);
    expect(lines.at(-2)).toBe('📊 x/compare.html');
  });

  it('ends with "figures only" without verdicts, and colors only when asked', () => {
    expect(formatCompareReport(comparison).trimEnd().split('\n').at(-1)).toBe('COMPARE: figures only (--figures-only): exit 0');
    const verdicts = judgeRegressions(comparison, [parseMaxRegression('inference_wait.p50:+10%')]);
    expect(formatCompareReport(comparison, { verdicts, color: true })).toContain('\u001b[1;31mCOMPARE: REGRESSION in inference_wait.p50');
  });
});
