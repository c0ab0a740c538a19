import { describe, expect, it } from 'vitest';
import { createHealthMonitor, evaluateGeneratorHealth } from './generatorHealth.ts';
import { DEFAULT_HEALTH_LIMITS, DEFAULT_HEALTH_SETTINGS, type HealthCheckName } from './healthLimits.ts';
import { createLagRecorder, type LagDistribution } from './lagDistribution.ts';
import type { GeneratorHealth, TimeseriesSample } from './types.ts';

const T0 = 1_800_000_000_000;

interface Figures {
  cpu?: number;
  /** Event-loop lag ticks of the interval: `ticks` prompt ones (default 100) plus these. */
  stalls?: number[];
  ticks?: number;
  /** Scheduler lags of the flows started in the interval. */
  sched?: number[];
  fds?: number;
  fdLimit?: number;
  dropped?: number;
  /** The machine's 1-minute load average (on 2 CPUs). */
  load?: number;
  /** Leave out the generator figures (a file of an older vana-load). */
  old?: boolean;
}

function distribution(values: readonly number[]): LagDistribution {
  const recorder = createLagRecorder();
  for (const v of values) recorder.record(v);
  return recorder.take() ?? { max: 0, buckets: [] };
}

/** One sample per second, `elapsedS` = index + 1; the figures default to a healthy, idle harness. */
function run(perSecond: readonly Figures[]): TimeseriesSample[] {
  let dropped = 0;
  return perSecond.map((f, i) => {
    dropped += f.dropped ?? 0;
    const ticks = [...Array.from({ length: f.ticks ?? 100 }, () => 0.4), ...(f.stalls ?? [])];
    const sample: TimeseriesSample = {
      t: T0 + (i + 1) * 1_000,
      elapsedS: i + 1,
      started: 0, completed: 0, succeeded: 0, failed: 0, dropped,
      startedPerS: 0, completedPerS: 0, failedPerS: 0, inFlight: 0,
      e2e: null, rollingE2eP95: null, errors: {},
      eventLoopLagMs: { mean: 1, max: Math.max(...ticks) },
      processes: [{ name: 'harness', pid: 1, cpuPercent: f.cpu ?? 10, rssBytes: 1, ...(f.fds !== undefined ? { fds: f.fds } : {}) }],
    };
    if (!f.old) {
      sample.generator = { cpuPercent: f.cpu ?? 10, eventLoopLag: distribution(ticks), fdLimit: f.fdLimit ?? 1_024 };
      if (f.load !== undefined) Object.assign(sample.generator, { loadAvg1: f.load, cpus: 2 });
      if (f.sched) sample.generator.schedulerLag = distribution(f.sched);
    }
    return sample;
  });
}

const seconds = (n: number, figures: Figures = {}): Figures[] => Array.from({ length: n }, () => ({ ...figures }));
const check = (health: GeneratorHealth, name: HealthCheckName) => health.checks.find((c) => c.name === name)!;
const judge = (samples: TimeseriesSample[], droppedBy?: Record<string, number>) =>
  evaluateGeneratorHealth({ samples, settings: DEFAULT_HEALTH_SETTINGS, ...(droppedBy ? { droppedBy } : {}) });

describe('evaluateGeneratorHealth', () => {
  it('judges a harness that kept up ok: every check within its limit, with its value, and no spans', () => {
    const health = judge(run(seconds(30, { cpu: 35, sched: [2, 3, 40], stalls: [12], fds: 80 })), { max_in_flight: 0, circuit_open: 0 });
    expect(health.status).toBe('ok');
    expect(health.reasons).toEqual([]);
    expect(health.checks.map((c) => [c.name, c.valueText, c.limitText, c.ok, c.windows.length])).toEqual([
      ['scheduler_lag.p99', '40ms', '500ms', true, 0],
      ['scheduler_lag.max', '40ms', '3.00s', true, 0],
      ['event_loop_lag.p99', '1.0ms', '500ms', true, 0],
      ['event_loop_lag.max', '12ms', '3.00s', true, 0],
      ['harness_cpu', '35.0%', '90.0%', true, 0],
      ['harness_fds', '7.8%', '80.0%', true, 0],
    ]);
    expect(health.limits).toEqual(DEFAULT_HEALTH_LIMITS);
    expect(health.dropped).toEqual({ byHarness: 0, bySystem: { max_in_flight: 0, circuit_open: 0 }, inUnhealthyWindows: 0 });
  });

  it('makes the run invalid when the event loop stalls for long enough to reach its p99, naming the check, its value and where', () => {
    // Seconds 21-28 (elapsed 0:20-0:28): three 700 ms stalls a second among 100 prompt ticks, 3 % of the ticks.
    const figures = [...seconds(20), ...seconds(8, { stalls: [700, 700, 700] }), ...seconds(32)];
    const health = judge(run(figures));
    expect(health.status).toBe('ok');
    // Over the run: 24 stalls of 6_024 ticks (0.4 %): the run's p99 is within its limit; each second of the stretch is not.
    expect(check(health, 'event_loop_lag.p99')).toMatchObject({ ok: true, valueText: '1.0ms', windows: [] });
    expect(check(health, 'event_loop_lag.max')).toMatchObject({ ok: true, value: 700 });
    expect(health.reasons).toEqual([]);
    const longer = judge(run([...seconds(20), ...seconds(40, { stalls: [700, 700, 700] })]));
    expect(check(longer, 'event_loop_lag.p99')).toMatchObject({ ok: false, value: 700, valueText: '700ms', windows: [{ fromS: 20, toS: 60, value: 700 }] });
    expect(longer.status).toBe('invalid');
    expect(longer.reasons).toEqual(['event-loop lag p99 700ms over the 500ms limit at 0:20–1:00']);
  });

  it('judges one long stall by the max: a 3.5 s stall at 0:40 makes the run invalid, spans listed', () => {
    const figures = seconds(90);
    figures[40] = { stalls: [3_500] };
    figures[70] = { stalls: [3_100] };
    figures[80] = { stalls: [2_900] };
    const health = judge(run(figures));
    expect(health.status).toBe('invalid');
    expect(check(health, 'event_loop_lag.max').windows).toEqual([
      { fromS: 40, toS: 41, value: 3_500 },
      { fromS: 70, toS: 71, value: 3_100 },
    ]);
    expect(health.reasons).toEqual(['event-loop lag max 3.50s over the 3.00s limit at 0:40–0:41, 1:10–1:11']);
  });

  it('averages harness CPU over 10 s: a 3 s burst at 100 % is within 90 %, 12 s at 97 % is not', () => {
    const burst = judge(run([...seconds(3, { cpu: 100 }), ...seconds(27, { cpu: 20 })]));
    expect(check(burst, 'harness_cpu')).toMatchObject({ ok: true, value: 44 });
    const saturated = judge(run([...seconds(10, { cpu: 20 }), ...seconds(12, { cpu: 97 }), ...seconds(10, { cpu: 20 })]));
    const cpu = check(saturated, 'harness_cpu');
    expect(cpu).toMatchObject({ ok: false, value: 97, valueText: '97.0%' });
    // Only the windows ending at 0:20 to 0:22 lie wholly in the 97 % stretch and average over 90 %: 0:10–0:22 once merged.
    expect(cpu.windows).toEqual([{ fromS: 10, toS: 22, value: 97 }]);
    expect(saturated.reasons).toEqual(['harness CPU (10 s average) 97.0% over the 90.0% limit at 0:10–0:22']);
  });

  it('judges a run shorter than the CPU window on its mean CPU', () => {
    expect(check(judge(run([{ cpu: 100 }, { cpu: 100 }, { cpu: 70 }, { cpu: 90 }])), 'harness_cpu')).toMatchObject({ ok: true, value: 90 });
    const health = judge(run([{ cpu: 100 }, { cpu: 100 }, { cpu: 70 }, { cpu: 95 }]));
    expect(check(health, 'harness_cpu')).toMatchObject({ ok: false, value: 91.25, windows: [{ fromS: 0, toS: 4, value: 91.25 }] });
  });

  it('judges scheduler lag over the flows that started: the max in the second it happened, the p99 from 100 starts on', () => {
    const late = judge(run([...seconds(5, { sched: [5, 6, 7] }), { sched: [5, 3_200] }, ...seconds(4, { sched: [8] })]));
    expect(check(late, 'scheduler_lag.max')).toMatchObject({ ok: false, value: 3_200, windows: [{ fromS: 5, toS: 6, value: 3_200 }] });
    // 1 late start of 21 is their p99, which is their max: not judged twice.
    expect(check(late, 'scheduler_lag.p99')).toEqual({
      name: 'scheduler_lag.p99', value: 3_200, valueText: '3.20s', limit: 500, limitText: '500ms', unit: 'ms', ok: true, windows: [],
      note: '21 starts: a p99 needs 100; the max judges them',
    });
    // 120 starts, 3 of them 900 ms late: the p99 is judged, and over.
    const many = judge(run([...seconds(10, { sched: Array.from({ length: 12 }, () => 20) }), { sched: [900, 900, 900] }]));
    expect(check(many, 'scheduler_lag.p99')).toMatchObject({ ok: false, value: 900, windows: [{ fromS: 10, toS: 11, value: 900 }] });
    expect(check(many, 'scheduler_lag.p99').note).toBeUndefined();
    const none = judge(run(seconds(5)));
    expect(check(none, 'scheduler_lag.p99')).toMatchObject({ ok: true, value: null, valueText: 'not measured' });
  });

  it('judges the event loop of a run shorter than 10 s by its max: the few ticks of a stalled loop make the p99 the stall', () => {
    // A closed model's users all encrypting in the first second: two stalls among 20 ticks, then 100 prompt ones.
    const burst = judge(run([{ stalls: [600, 580], ticks: 20 }, {}]));
    expect(check(burst, 'event_loop_lag.p99')).toMatchObject({ ok: true, value: 580, note: 'a 2 s run: a burst the max judges (a p99 needs 10 s)' });
    expect(check(burst, 'event_loop_lag.max')).toMatchObject({ ok: true, value: 600 });
    expect(burst.status).toBe('ok');
  });

  it('judges open files against ulimit -n', () => {
    const health = judge(run([...seconds(3, { fds: 100, fdLimit: 1_024 }), { fds: 900, fdLimit: 1_024 }]));
    expect(check(health, 'harness_fds')).toMatchObject({ ok: false, value: 87.891, valueText: '87.9%', windows: [{ fromS: 3, toS: 4, value: 87.891 }] });
  });

  it('keeps the figures but does not judge when the check is off', () => {
    const samples = run([...seconds(20), ...seconds(40, { stalls: [700, 700, 700] })]);
    const health = evaluateGeneratorHealth({ samples, settings: { enabled: false, limits: DEFAULT_HEALTH_LIMITS } });
    expect(health.status).toBe('not_judged');
    expect(health.reasons).toEqual(['event-loop lag p99 700ms over the 500ms limit at 0:20–1:00']);
    const quiet = evaluateGeneratorHealth({ samples: run(seconds(3)), settings: { enabled: false, limits: DEFAULT_HEALTH_LIMITS } });
    expect([quiet.status, quiet.reasons]).toEqual(['not_judged', []]);
  });

  it('judges by the limits it is given: a 1.5 s stall is over --max-event-loop-lag 1s', () => {
    const samples = run([...seconds(5), { stalls: [1_500] }]);
    expect(judge(samples).status).toBe('ok');
    const strict = evaluateGeneratorHealth({ samples, settings: { enabled: true, limits: { ...DEFAULT_HEALTH_LIMITS, eventLoopLagMaxMs: 1_000 } } });
    expect([strict.status, strict.reasons]).toEqual(['invalid', ['event-loop lag max 1.50s over the 1.00s limit at 0:05–0:06']]);
  });

  it('attributes dropped arrivals to the system, and counts those dropped while the harness was over a limit', () => {
    const figures = [...seconds(10, { dropped: 1 }), ...seconds(3, { dropped: 4, stalls: [3_200] }), ...seconds(5)];
    const health = judge(run(figures), { max_in_flight: 20, circuit_open: 2 });
    expect(health.dropped).toEqual({ byHarness: 0, bySystem: { max_in_flight: 20, circuit_open: 2 }, inUnhealthyWindows: 12 });
    // Without the load model's counts (a crash before summary.json), the total is the system's, unrecorded by reason.
    expect(judge(run(figures)).dropped.bySystem).toEqual({ unrecorded: 22 });
  });

  it('judges the files of an older vana-load on what they recorded: the event-loop max only', () => {
    const health = judge(run([...seconds(4, { old: true }), { old: true, stalls: [3_600] }]));
    expect(health.checks.filter((c) => c.value !== null).map((c) => c.name)).toEqual(['event_loop_lag.max']);
    expect(health.reasons).toEqual(['event-loop lag max 3.60s over the 3.00s limit at 0:04–0:05']);
  });

  it('tells why the harness fell behind: its own saturated core, a machine that starved it, or neither', () => {
    // Stalls from 0:20 to 0:40 of a 60 s run; elsewhere the harness is idle on a quiet machine.
    const during = (figures: Figures): Figures[] => [...seconds(20, { cpu: 10, load: 0.5 }), ...seconds(20, { ...figures, stalls: [3_500] }), ...seconds(20, { cpu: 10, load: 0.5 })];
    const saturated = judge(run(during({ cpu: 96, load: 1.4 })));
    expect(saturated.diagnosis).toBe(
      'the harness saturated its core: 96% of a core where it was over (load average up to 1.4 on 2 CPUs); lower the rate or the users, or split the load over more harness processes',
    );
    const starved = judge(run(during({ cpu: 15, load: 9.8 })));
    expect(starved.status).toBe('invalid');
    expect(starved.diagnosis).toBe(
      'the machine was oversubscribed (load average up to 9.8 on 2 CPUs) while the harness used 15% of a core where it was over: other processes starved it of CPU; run it where it has a core to itself',
    );
    const neither = judge(run(during({ cpu: 20, load: 1.2 })));
    expect(neither.diagnosis).toBe(
      'the harness used 20% of a core where it was over, and the machine was not oversubscribed (load average up to 1.2 on 2 CPUs): long synchronous work held its event loop, or the process was paused',
    );
    // No load figures (files of an earlier version): the CPU alone.
    expect(judge(run(during({ cpu: 15 }))).diagnosis).toBe(
      "the harness used 15% of a core where it was over, short of its core: other processes starved it, or long synchronous work held its event loop (the machine's load was not recorded)",
    );
    // Healthy, or over on open files alone: nothing to explain.
    expect(judge(run(seconds(30, { cpu: 15, load: 9.8 }))).diagnosis).toBeUndefined();
    expect(judge(run([...seconds(3, { fds: 100 }), { fds: 900 }])).diagnosis).toBeUndefined();
    // Files without any generator figures: no CPU to tell from.
    expect(judge(run([...seconds(4, { old: true }), { old: true, stalls: [3_600] }])).diagnosis).toBeUndefined();
  });

  it('judges an empty run ok, with nothing measured', () => {
    const health = judge([]);
    expect([health.status, health.checks.every((c) => c.value === null)]).toEqual(['ok', true]);
  });
});

describe('createHealthMonitor', () => {
  it('judges the run so far at each sample: the CPU over its 10 s windows, a stall from the second it happened on', () => {
    const monitor = createHealthMonitor(DEFAULT_HEALTH_LIMITS);
    const samples = run([...seconds(10, { cpu: 50 }), ...seconds(12, { cpu: 99 }), { stalls: [3_100] }]);
    const judged = samples.map((s) => monitor.observe(s));
    expect(judged.slice(0, 10).every((j) => j.healthy)).toBe(true);
    // 50 % for 10 s, then 99 %: the 10 s mean passes 90 % after 9 s of it, and the run so far stays over.
    expect(judged.findIndex((j) => !j.checks.harness_cpu.ok)).toBe(18);
    expect(judged.slice(18).every((j) => !j.healthy)).toBe(true);
    expect(judged.at(-1)!.checks['event_loop_lag.max']).toEqual({ value: 3_100, ok: false });
  });

  it('ends where the evaluation of the whole run ends', () => {
    const figures: Figures[] = Array.from({ length: 40 }, (_, i) => ({
      cpu: 30 + ((i * 37) % 70),
      sched: Array.from({ length: 4 }, (_, k) => ((i + k) * 53) % 700),
      stalls: i % 7 === 0 ? [400 + i * 20] : [],
      fds: 100 + i * 10,
    }));
    const samples = run(figures);
    const monitor = createHealthMonitor(DEFAULT_HEALTH_LIMITS);
    const last = samples.map((s) => monitor.observe(s)).at(-1)!;
    const health = judge(samples);
    expect(Object.fromEntries(health.checks.map((c) => [c.name, { value: c.value, ok: c.ok }]))).toEqual(last.checks);
    expect(last.healthy).toBe(health.status === 'ok');
  });
});
