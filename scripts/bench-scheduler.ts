/**
 * Scheduler benchmark: how precisely the poisson load model keeps its planned arrival times, and
 * what it costs the harness, at several rates. The flow is a stand-in that waits a random 0-50 ms,
 * so what is measured is the scheduler and its bookkeeping, not the flow.
 *
 *   npx tsx scripts/bench-scheduler.ts [--seconds 5] [--rates 20,100,500] [--json]
 *
 * Lag = actual start - planned arrival time, taken on a sub-millisecond clock (performance.now on
 * the epoch), over every arrival (started or dropped). CPU% = this process's user+system CPU time
 * per wall second of the run (100 % = one core busy).
 */
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import type { FlowResult } from '../src/flow.ts';
import { runLoadModel } from '../src/load/runLoadModel.ts';
import type { FlowTask, RunFlow } from '../src/load/types.ts';

interface SchedulerBenchResult {
  rate: number;
  seconds: number;
  arrivals: number;
  started: number;
  dropped: number;
  achievedRate: number;
  lagMs: { mean: number; p50: number; p99: number; max: number };
  cpuPercent: number;
  heapUsedMb: number;
}

const clock = () => performance.timeOrigin + performance.now();

function resultOf(task: FlowTask, startedAt: number): FlowResult {
  const endedAt = clock();
  return {
    flowId: task.flowId,
    userIndex: task.userIndex,
    userAddress: '0x0000000000000000000000000000000000000001',
    testId: 'bench-scheduler',
    dataSize: 'small',
    dataBytes: 0,
    scheduledAt: task.scheduledAt,
    startedAt,
    endedAt,
    success: true,
    steps: {},
    e2eMs: endedAt - task.scheduledAt,
    retries: 0,
  };
}

const waitRandomly: RunFlow = (task) => {
  const startedAt = clock();
  return new Promise((resolve) => setTimeout(() => resolve(resultOf(task, startedAt)), Math.random() * 50));
};

function percentile(sorted: Float64Array, p: number): number {
  if (sorted.length === 0) return 0;
  return sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))]!;
}

async function benchRate(rate: number, seconds: number): Promise<SchedulerBenchResult> {
  // One slot per expected arrival and then some: the bench, unlike the scheduler, keeps every lag.
  const lags = new Float64Array(Math.ceil(rate * seconds * 2) + 100);
  let count = 0;
  const recordLag = (task: FlowTask) => {
    if (count < lags.length) lags[count++] = clock() - task.scheduledAt;
  };
  const cpuBefore = process.cpuUsage();
  const wallBefore = clock();
  const stats = await runLoadModel(
    { kind: 'poisson', rate, durationMs: seconds * 1000, maxInFlight: 10_000, seed: 1 },
    { runFlow: waitRandomly, hooks: { onFlowStarted: recordLag, onDropped: recordLag }, now: clock },
  );
  const wallMs = clock() - wallBefore;
  const cpu = process.cpuUsage(cpuBefore);
  const sorted = lags.slice(0, count).sort();
  return {
    rate,
    seconds,
    arrivals: stats.scheduled,
    started: stats.started,
    dropped: stats.dropped,
    achievedRate: stats.arrivalRate ?? 0,
    lagMs: { mean: stats.schedulerLagMs.mean, p50: percentile(sorted, 0.5), p99: percentile(sorted, 0.99), max: stats.schedulerLagMs.max },
    cpuPercent: ((cpu.user + cpu.system) / 1000 / wallMs) * 100,
    heapUsedMb: process.memoryUsage().heapUsed / 1_048_576,
  };
}

const { values } = parseArgs({
  options: { seconds: { type: 'string', default: '5' }, rates: { type: 'string', default: '20,100,500' }, json: { type: 'boolean', default: false } },
});
const seconds = Number(values.seconds);
const rates = values.rates.split(',').map(Number);
if (!(seconds > 0) || rates.some((rate) => !(rate > 0))) {
  process.stderr.write(`Expected --seconds > 0 and --rates as positive numbers, got --seconds ${values.seconds} --rates ${values.rates}\n`);
  process.exit(2);
}

const results: SchedulerBenchResult[] = [];
for (const rate of rates) results.push(await benchRate(rate, seconds));

if (values.json) {
  process.stdout.write(`${JSON.stringify(results, null, 2)}\n`);
} else {
  process.stdout.write(`npx tsx scripts/bench-scheduler.ts --seconds ${seconds} --rates ${rates.join(',')}   (${new Date().toISOString()}, node ${process.version})\n\n`);
  process.stdout.write('target/s  arrivals  achieved/s  lag mean   lag p50   lag p99   lag max   CPU%   heap MB\n');
  for (const r of results) {
    const ms = (value: number) => `${value.toFixed(2)} ms`.padStart(9);
    process.stdout.write(
      `${String(r.rate).padStart(8)}  ${String(r.arrivals).padStart(8)}  ${r.achievedRate.toFixed(1).padStart(10)}  ${ms(r.lagMs.mean)} ${ms(r.lagMs.p50)} ${ms(r.lagMs.p99)} ${ms(r.lagMs.max)}  ${r.cpuPercent.toFixed(1).padStart(5)}  ${r.heapUsedMb.toFixed(1).padStart(8)}\n`,
    );
  }
  process.stdout.write('\nachieved/s = arrivals (started + dropped) / schedule seconds; the seeded plan itself deviates from the target by chance (seed 1).\n');
}
