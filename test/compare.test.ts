import { execFile } from 'node:child_process';
import { access, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeCompareFixture, type CompareFixtureParameters } from './fixtures/compareFixture.ts';
import { latencyStats } from '../src/report/compareStats.ts';
import { formatMetricValue } from '../src/report/compareTable.ts';
import { TSX_LOADER_URL } from '../src/util/tsxLoader.ts';

// `vana-load compare` as a user runs it, on results directories this test writes itself (no stack).
const CLI = fileURLToPath(new URL('../src/cli/main.ts', import.meta.url));
const ENV = Object.fromEntries(Object.entries(process.env).filter(([name]) => !name.startsWith('VANA_') && name !== 'NO_COLOR'));

let root: string;
beforeAll(async () => void (root = await mkdtemp(join(tmpdir(), 'vana-load-compare-'))));
afterAll(async () => rm(root, { recursive: true, force: true }));

interface Exited {
  code: number;
  stdout: string;
  stderr: string;
}

async function compare(...args: string[]): Promise<Exited> {
  try {
    const { stdout, stderr } = await promisify(execFile)(process.execPath, ['--import', TSX_LOADER_URL, CLI, 'compare', ...args], { cwd: root, env: ENV });
    return { code: 0, stdout, stderr };
  } catch (err) {
    const e = err as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

async function fixture(name: string, params: CompareFixtureParameters): Promise<string> {
  const dir = join(root, name);
  await writeCompareFixture(dir, params);
  return dir;
}

const checkLine = (stdout: string, rule: string): string | undefined => stdout.split('\n').find((line) => line.includes(` ${rule} `));

describe('vana-load compare', () => {
  it('exits 0 for two identical runs: no significant difference, compare.html in the candidate directory', async () => {
    const a = await fixture('same-a', { flows: 200, seed: 1 });
    const b = await fixture('same-b', { flows: 200, seed: 1 });
    const { code, stdout, stderr } = await compare(a, b, '--max-regression', 'e2e.p95:+10%', '--max-regression', 'success_rate:-1%');
    expect([code, stderr]).toEqual([0, '']);
    // Independent resamples of the same flows differ both ways: an interval around 0, p 1.
    expect(checkLine(stdout, 'e2e.p95:+10%')).toMatch(/^ {2}✅ {2}e2e\.p95:\+10% +ok {2}0\.0ms \(0\.0%\), 95% CI \[-\S+, \+\S+\], p 1\.000: within the tolerance$/);
    expect(stdout).toContain('\nCOMPARE: NO REGRESSION (2 rule(s) checked): exit 0\n');
    expect(stdout).not.toContain(' *\n');
    await access(join(b, 'compare.html'));
  });

  it('exits 1 for a candidate 30 % slower, naming e2e.p95 with its difference, interval and p-value', async () => {
    const a = await fixture('slow-a', { flows: 200, seed: 1 });
    const b = await fixture('slow-b', { flows: 200, seed: 2, scale: 1.3 });
    const { code, stdout } = await compare(a, b, '--max-regression', 'e2e.p95:+10%', '--max-regression', 'relay.p99:+50ms');
    expect(code).toBe(1);
    const times = async (dir: string) => latencyStats(Float64Array.from((await readFile(join(dir, 'flows.jsonl'), 'utf8')).trim().split('\n').map((l) => JSON.parse(l).e2eMs as number)).sort());
    const [p95a, p95b] = [(await times(a)).p95, (await times(b)).p95];
    const difference = formatMetricValue('latency', p95b - p95a, true);
    const relative = `+${(((p95b - p95a) / p95a) * 100).toFixed(1)}%`;
    expect(checkLine(stdout, 'e2e.p95:+10%')).toMatch(
      new RegExp(`^ {2}❌ {2}e2e\\.p95:\\+10% +REGRESSED {2}\\${difference} \\(\\${relative}\\), 95% CI \\[\\+\\S+, \\+\\S+\\], p <0\\.001: beyond the tolerance and significant$`),
    );
    expect(checkLine(stdout, 'relay.p99:+50ms')).toMatch(/ ok +\+\S+ \(\+\d+\.\d%\), 95% CI .*: within the tolerance$/);
    expect(stdout).toContain(`\nCOMPARE: REGRESSION in e2e.p95 ${difference} (${relative}): exit 1\n`);
    expect(relative).toMatch(/^\+(2[5-9]|3[0-5])\.\d%$/);
  });

  it('exits 0 for a shift inside the tolerance', async () => {
    const a = await fixture('inside-a', { flows: 300, seed: 1 });
    const b = await fixture('inside-b', { flows: 300, seed: 1, scale: 1.05 });
    const { code, stdout } = await compare(a, b, '--max-regression', 'e2e.p95:+10%');
    expect(code).toBe(0);
    expect(checkLine(stdout, 'e2e.p95:+10%')).toMatch(/ ok {2}\+\S+ \(\+5\.0%\), .*: within the tolerance$/);
  });

  it('exits 0 for a significant but small shift beyond a loose tolerance, and 1 beyond a tight one', async () => {
    const a = await fixture('small-a', { flows: 1_000, seed: 1 });
    const b = await fixture('small-b', { flows: 1_000, seed: 1, scale: 1.06 });
    const loose = await compare(a, b, '--max-regression', 'e2e.p50:+20%');
    expect(loose.code).toBe(0);
    expect(checkLine(loose.stdout, 'e2e.p50:+20%')).toMatch(/ ok {2}\+\S+ \(\+6\.0%\), 95% CI \[\+\S+, \+\S+\], p (<0\.001|0\.0[0-4]\d): within the tolerance$/);
    const tight = await compare(a, b, '--max-regression', 'e2e.p50:+2%');
    expect(tight.code).toBe(1);
  });

  it('exits 0 for a large difference on tiny samples, which is not significant', async () => {
    const a = await fixture('tiny-a', { flows: 3, seed: 1 });
    const b = await fixture('tiny-b', { flows: 3, seed: 2, scale: 3 });
    const { code, stdout } = await compare(a, b, '--max-regression', 'e2e.p95:+10%');
    expect(code).toBe(0);
    expect(checkLine(stdout, 'e2e.p95:+10%')).toMatch(/ ok {2}\+\S+ \(\+1\d\d\.\d%\), 95% CI .*, p 0\.081: beyond the tolerance but not significant$/);
  });

  it('error: refuses runs of another target, naming the field; --force compares them with the difference shown', async () => {
    const a = await fixture('local', { flows: 20, seed: 1 });
    const b = await fixture('remote', { flows: 20, seed: 1, environment: { target: 'remote' }, config: { data: { size: 'large' } } });
    const refused = await compare(a, b, '--max-regression', 'e2e.p95:+10%');
    expect([refused.code, refused.stdout]).toEqual([2, '']);
    expect(refused.stderr).toBe('Error [COMPARE_NOT_COMPARABLE]: The runs are not comparable: target: baseline local, candidate remote; --force compares them anyway\n');
    const forced = await compare(a, b, '--force');
    expect(forced.code).toBe(0);
    expect(forced.stdout).toContain('\n  ✋ target: baseline local, candidate remote\n');
    expect(forced.stdout).toContain('\n  ⚠️  data size: baseline small, candidate large\n');
  });

  it('warns loudly of a difference that does not refuse, and compares', async () => {
    const a = await fixture('node20', { flows: 20, seed: 1 });
    const b = await fixture('node22', { flows: 20, seed: 1, environment: { node: 'v22.11.0' } });
    const { code, stdout } = await compare(a, b);
    expect(code).toBe(0);
    expect(stdout).toContain("\n⚠️  The runs differ in 1 setting(s); differences below may come from these:\n  ⚠️  node version: baseline v20.19.0, candidate v22.11.0\n");
    // No rule given: the default gate judges, and finds nothing in two runs of the same flows.
    expect(stdout).toMatch(/\nRegression checks, default gate \(no --max-regression given\): .*\(Bonferroni\)\n/);
    expect(stdout).toMatch(/\nCOMPARE: NO REGRESSION \(14 rule\(s\) checked\): exit 0\n/);
  });

  it('without rules, the default gate fails a candidate 30 % slower naming the steps, and --figures-only judges nothing', async () => {
    const a = await fixture('gate-a', { flows: 200, seed: 1 });
    const b = await fixture('gate-b', { flows: 200, seed: 2, scale: 1.3 });
    const gated = await compare(a, b);
    expect(gated.code).toBe(1);
    expect(gated.stdout).toContain('each at p < 0.05 ÷ 14 = 0.0036 (Bonferroni)');
    expect(checkLine(gated.stdout, 'e2e.p95:+10%')).toMatch(/❌ {2}e2e\.p95:\+10% +REGRESSED /);
    expect(gated.stdout).toMatch(/\nCOMPARE: REGRESSION in e2e\.p95 \+\S+ \(\+\d+\.\d%\)(, \w+\.p95 \+\S+ \(\+\d+\.\d%\))*: exit 1\n/);
    const figures = await compare(a, b, '--figures-only');
    expect(figures.code).toBe(0);
    expect(figures.stdout).toContain('\nCOMPARE: figures only (--figures-only): exit 0\n');
    const both = await compare(a, b, '--figures-only', '--max-regression', 'e2e.p95:+10%');
    expect([both.code, both.stderr]).toEqual([2, 'Error [COMPARE_FLAGS_CONFLICT]: --figures-only judges nothing: drop it or the --max-regression rules\n']);
  });

  it('error: a bad --max-regression or --alpha exits 2 with one line naming what is accepted', async () => {
    const a = await fixture('usage', { flows: 5, seed: 1 });
    const bad = await compare(a, a, '--max-regression', 'e2e.p95:10%');
    expect(bad.code).toBe(2);
    expect(bad.stderr.trimEnd().split('\n')).toHaveLength(1);
    expect(bad.stderr).toMatch(/^Error \[MAX_REGRESSION_INVALID\]: bad --max-regression 'e2e\.p95:10%': missing sign: a regression of e2e\.p95 is \+<amount>; expected <metric>:<\+\|-><amount><unit>, e\.g\. e2e\.p95:\+10%.*flows_per_s or throughput \(-, unit % \/s \/m\)\n$/);
    const alpha = await compare(a, a, '--alpha', '2');
    expect(alpha.code).toBe(2);
    expect(alpha.stderr).toContain('--alpha must be a number in [0.0001, 0.5], got "2"');
  });

  it('error: a missing directory or a truncated flows.jsonl exits 2 with one line naming the file', async () => {
    const a = await fixture('whole', { flows: 5, seed: 1 });
    const missing = await compare(a, join(root, 'nowhere'));
    expect([missing.code, missing.stderr]).toEqual([2, `Error [COMPARE_INPUT_INVALID]: Not a results directory: ${join(root, 'nowhere')} (no such directory)\n`]);
    const b = await fixture('truncated', { flows: 5, seed: 1 });
    const flows = join(b, 'flows.jsonl');
    await writeFile(flows, (await readFile(flows, 'utf8')).slice(0, -30));
    const cut = await compare(a, b);
    expect([cut.code, cut.stderr]).toEqual([2, `Error [COMPARE_INPUT_INVALID]: ${flows}: line 5 is not complete JSON (truncated by a crash or a partial copy?); compare needs every flow\n`]);
  });

  it('writes compare.html where --out says', async () => {
    const a = await fixture('out', { flows: 10, seed: 1 });
    const out = join(root, 'elsewhere.html');
    const { code, stdout } = await compare(a, a, '--out', out, '--figures-only');
    expect(code).toBe(0);
    expect(stdout.trimEnd().split('\n').at(-1)).toBe(`📊 ${out}`);
    expect(await readFile(out, 'utf8')).toContain('<span class="verdict none" data-verdict="none">FIGURES ONLY</span>');
  });
});
