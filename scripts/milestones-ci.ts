/**
 * `npm run milestones:ci`: MS-01..MS-06 in sequence at CI scale, each as its own process against
 * the local stack it starts and stops, stopping at the first failure, then one summary table.
 * Exit code: 0 when all pass, else the failing milestone's (1 threshold, 2 usage, 3 infrastructure,
 * 5 invalid: the load generator fell behind).
 *
 *   npm run milestones:ci                 # the CI profile (~6 minutes on 2 cores)
 *   npm run milestones:ci -- --only ms-03 # one milestone of the profile
 */
import { spawn } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Command } from 'commander';
import type { RunSummary } from '../src/metrics/types.ts';

interface Step {
  id: string;
  name: string;
  script: string;
  args: readonly string[];
  /** Writes results/<run-id>/summary.json (the shared runner). */
  writesResults: boolean;
  /** Writes results/<run-id>/survival.json instead (MS-06: one run per scenario under it). */
  writesSurvival?: boolean;
}

const MS06_CI_SCENARIOS = ['storage-5xx-10pct', 'personal-server-restart', 'chain-pause'];

/**
 * The CI profile: every milestone, scaled down; MS-05 keeps 1000 users, and runs again in direct
 * mode (users pay gas, funded by the background worker); MS-06 runs three scenarios.
 */
export const CI_PROFILE: readonly Step[] = [
  { id: 'ms-01', name: 'Core components', script: 'milestones/ms-01/test-milestone1.ts', args: [], writesResults: false },
  { id: 'ms-02', name: 'Single E2E flow', script: 'milestones/ms-02/test-single-e2e.ts', args: [], writesResults: true },
  { id: 'ms-03', name: 'Multi-user (10 concurrent)', script: 'milestones/ms-03/test-multi-user.ts', args: ['--concurrent', '10'], writesResults: true },
  {
    id: 'ms-04',
    name: 'Load patterns (ramp 5s / sustain 10s / ramp 5s, 10 users peak)',
    script: 'milestones/ms-04/test-load-patterns.ts',
    args: ['--users', '150', '--concurrency', '10', '--ramp-up', '5s', '--sustain', '10s', '--ramp-down', '5s'],
    writesResults: true,
  },
  {
    id: 'ms-05',
    name: 'Streaming (1000 users, Poisson 10/s)',
    script: 'milestones/ms-05/test-streaming-load.ts',
    args: ['--users', '1000', '--rate', '10'],
    writesResults: true,
  },
  {
    id: 'ms-05-direct',
    name: 'Streaming, direct mode (300 users, Poisson 10/s, wallets funded in the background)',
    script: 'milestones/ms-05/test-streaming-load.ts',
    args: ['--users', '300', '--rate', '10', '--relay', 'direct', '--pool-size', '100'],
    writesResults: true,
  },
  {
    id: 'ms-06',
    name: `Resilience (--quick: ${MS06_CI_SCENARIOS.join(', ')})`,
    script: 'milestones/ms-06/test-resilience.ts',
    args: ['--quick', ...MS06_CI_SCENARIOS.flatMap((name) => ['--scenario', `milestones/ms-06/scenarios/${name}.json`])],
    writesResults: true,
    writesSurvival: true,
  },
];

/**
 * MS-06's figures for the table: its scenarios' summaries added up (flows, success, the worst
 * p95, the largest harness RSS), from the run directories survival.json names.
 */
async function readSurvivalSummaries(dir: string): Promise<RunSummary | undefined> {
  const survival = await readFile(join(dir, 'survival.json'), 'utf8').then((text) => JSON.parse(text) as { scenarios: Array<{ dir: string }> }).catch(() => undefined);
  if (!survival || survival.scenarios.length === 0) return undefined;
  const summaries = await Promise.all(survival.scenarios.map((s) => readFile(join(s.dir, 'summary.json'), 'utf8').then((text) => JSON.parse(text) as RunSummary)));
  const completed = summaries.reduce((sum, s) => sum + s.counts.completed, 0);
  const succeeded = summaries.reduce((sum, s) => sum + s.counts.succeeded, 0);
  const seconds = summaries.reduce((sum, s) => sum + s.durationS, 0);
  const worst = summaries.reduce((a, b) => ((b.steps.e2e?.p95 ?? 0) > (a.steps.e2e?.p95 ?? 0) ? b : a));
  const harness = summaries
    .flatMap((s) => s.resources.filter((r) => r.name === 'harness'))
    .reduce<RunSummary['resources'][number] | undefined>((a, b) => (a === undefined || b.rssPeakBytes > a.rssPeakBytes ? b : a), undefined);
  return {
    ...worst,
    counts: { ...worst.counts, completed, succeeded },
    rates: { ...worst.rates, successRate: completed === 0 ? 0 : succeeded / completed, flowsPerS: seconds === 0 ? 0 : completed / seconds },
    resources: harness ? [harness] : [],
  };
}

interface Outcome {
  step: Step;
  exitCode: number;
  seconds: number;
  summary: RunSummary | undefined;
}

function run(step: Step, runId: string): Promise<number> {
  const args = ['--import', 'tsx', step.script, ...step.args, ...(step.writesResults ? ['--run-id', runId] : [])];
  return new Promise((resolve) => {
    const child = spawn(process.execPath, args, { stdio: 'inherit', env: { ...process.env, FORCE_COLOR: process.env.FORCE_COLOR ?? '0' } });
    const forward = (signal: NodeJS.Signals): void => void child.kill(signal);
    process.on('SIGINT', forward);
    process.on('SIGTERM', forward);
    child.on('exit', (code, signal) => {
      process.off('SIGINT', forward);
      process.off('SIGTERM', forward);
      resolve(code ?? (signal === 'SIGINT' ? 130 : 1));
    });
  });
}

const pct = (ratio: number | null | undefined): string => (ratio == null ? '-' : `${(ratio * 100).toFixed(1)}%`);
const secs = (ms: number | undefined): string => (ms === undefined ? '-' : ms >= 1000 ? `${(ms / 1000).toFixed(2)}s` : `${Math.round(ms)}ms`);

/** `ok (loop p99 12ms, sched p99 30ms, cpu 41%)`: the generator's status and its three main figures. */
function generatorFigures(health: NonNullable<RunSummary['generatorHealth']>): string {
  const value = (name: string): string => health.checks.find((c) => c.name === name)?.valueText ?? '-';
  return `${health.status} (loop p99 ${value('event_loop_lag.p99')}, sched p99 ${value('scheduler_lag.p99')}, cpu ${value('harness_cpu')})`;
}

function table(outcomes: readonly Outcome[], skipped: readonly Step[]): string {
  const rows = [
    ['milestone', 'result', 'time', 'flows', 'success', 'e2e p95', 'flows/s', 'harness rss peak', 'generator'],
    ...outcomes.map(({ step, exitCode, seconds, summary }) => {
      const harness = summary?.resources.find((r) => r.name === 'harness');
      return [
        `${step.id.toUpperCase()} ${step.name}`,
        exitCode === 0 ? 'PASS' : exitCode === 5 ? 'INVALID (exit 5)' : `FAIL (exit ${exitCode})`,
        `${seconds.toFixed(0)}s`,
        summary ? String(summary.counts.completed) : '-',
        pct(summary?.rates.successRate),
        secs(summary?.steps.e2e?.p95),
        summary ? summary.rates.flowsPerS.toFixed(2) : '-',
        harness ? `${Math.round(harness.rssPeakBytes / 1_048_576)} MB` : '-',
        summary?.generatorHealth ? generatorFigures(summary.generatorHealth) : '-',
      ];
    }),
    ...skipped.map((step) => [`${step.id.toUpperCase()} ${step.name}`, 'not run', '-', '-', '-', '-', '-', '-', '-']),
  ];
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
  return rows.map((r) => r.map((cell, i) => (i === 0 || i === 1 ? cell.padEnd(widths[i]!) : cell.padStart(widths[i]!))).join('  ')).join('\n');
}

async function main(): Promise<number> {
  const program = new Command('milestones-ci')
    .description('MS-01..MS-06 in sequence at CI scale; stops at the first failure and prints one summary table')
    .option('--only <ids>', 'comma-separated milestone ids of the profile to run, e.g. ms-03,ms-05')
    .option('--results-dir <dir>', 'where the runs write results/<run-id>/', 'results')
    .parse();
  const opts = program.opts<{ only?: string; resultsDir: string }>();
  const wanted = opts.only?.split(',').map((s) => s.trim().toLowerCase());
  const unknown = wanted?.filter((id) => !CI_PROFILE.some((s) => s.id === id)) ?? [];
  if (unknown.length > 0) {
    process.stderr.write(`--only: unknown milestone ${unknown.join(', ')}; expected ${CI_PROFILE.map((s) => s.id).join(', ')}\n`);
    return 2;
  }
  const steps = CI_PROFILE.filter((s) => wanted === undefined || wanted.includes(s.id));
  const stamp = new Date().toISOString().replace(/\.\d{3}Z$/, 'Z').replaceAll(':', '-');
  const outcomes: Outcome[] = [];
  let failed: Outcome | undefined;
  for (const [i, step] of steps.entries()) {
    process.stdout.write(`\n${'═'.repeat(72)}\n▶ [${i + 1}/${steps.length}] ${step.id.toUpperCase()} ${step.name}\n  npx tsx ${step.script} ${step.args.join(' ')}\n${'═'.repeat(72)}\n`);
    const runId = `ci-${stamp}-${step.id}`;
    const t0 = performance.now();
    const exitCode = await run(step, runId);
    const seconds = (performance.now() - t0) / 1000;
    const summary = !step.writesResults
      ? undefined
      : step.writesSurvival
        ? await readSurvivalSummaries(join(opts.resultsDir, runId))
        : await readFile(join(opts.resultsDir, runId, 'summary.json'), 'utf8').then((text) => JSON.parse(text) as RunSummary).catch(() => undefined);
    const outcome = { step, exitCode, seconds, summary };
    outcomes.push(outcome);
    if (exitCode !== 0) {
      failed = outcome;
      break;
    }
  }
  const skipped = steps.slice(outcomes.length);
  process.stdout.write(`\n📋 Milestones (CI profile)\n${table(outcomes, skipped)}\n`);
  process.stdout.write(failed ? `\n❌ ${failed.step.id.toUpperCase()} failed (exit ${failed.exitCode}); later milestones not run.\n` : `\n✅ All ${outcomes.length} milestones passed.\n`);
  return failed?.exitCode ?? 0;
}

process.exitCode = await main();
