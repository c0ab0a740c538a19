/**
 * Made-up but consistent capacity steps and a whole search for the tests (bottleneck, report,
 * browser), shaped after the automine search of PROGRESS.md: 5 … 25.5/s pass, 38.3/s fails,
 * bisect 31.9 ✓, 35.1 ✗, 33.5 ✓. CPU % of a process = rate × its CPU ms per flow ÷ 10.
 */
import { type StepName } from '../flow.ts';
import { summarizeCapacity } from './summarizeCapacity.ts';
import { cpuLimit } from './cpuLimit.ts';
import type { CapacityResult, CapacityStep, ChainLoad } from './types.ts';

export interface CapacityStepFixtureParameters {
  index?: number;
  phase?: CapacityStep['phase'];
  rate: number;
  pass?: boolean;
  interrupted?: boolean;
  /** CPU ms per flow by process; default harness 11.8, stack 21.2, anvil 18.9. */
  msPerFlow?: Record<string, number>;
  /** CPU of other work on the machine, % of one core; default 7. */
  otherCpuPercent?: number;
  cores?: number;
  e2eP95Ms?: number;
  stepP95Ms?: Partial<Record<StepName, number>>;
  chain?: ChainLoad | null;
  breaches?: string[];
}

const DEFAULT_MS_PER_FLOW = { harness: 11.8, stack: 21.2, anvil: 18.9 };

/** One step; the figures that are not given follow from the rate. */
export function capacityStepFixture(p: CapacityStepFixtureParameters): CapacityStep {
  const msPerFlow = p.msPerFlow ?? DEFAULT_MS_PER_FLOW;
  const cpu = Object.fromEntries(Object.entries(msPerFlow).map(([name, ms]) => [name, { avgPercent: (p.rate * ms) / 10, msPerFlow: ms }]));
  const ours = Object.values(cpu).reduce((sum, c) => sum + c.avgPercent, 0);
  const cores = p.cores ?? 2;
  const e2eP95Ms = p.e2eP95Ms ?? 300 + p.rate * 30;
  const pass = p.pass ?? true;
  return {
    index: p.index ?? 1,
    phase: p.phase ?? 'ramp',
    rate: p.rate,
    seed: 1,
    arrivals: Math.round(p.rate * 20),
    achievedRate: p.rate * 1.004,
    successRate: pass ? 1 : 0.998,
    e2eP50Ms: e2eP95Ms / 4,
    e2eP95Ms,
    stepP95Ms: p.stepP95Ms ?? { encrypt: 6, upload_data: 15, upload_grant: 12, identity: 8, wrap_key: 3, sign: 5, relay: 60 + p.rate * 2, confirm: 100 + p.rate * 10, inference_submit: 40 + p.rate * 5, inference_wait: 20, verify: 1 },
    dropped: 0,
    schedulerLagMaxMs: 4,
    cpu,
    machineCpuPercent: Math.min(cores * 100, ours + (p.otherCpuPercent ?? 7)),
    loadAverage: 1.9,
    cpuLimit: cpuLimit(Object.entries(msPerFlow).map(([name, ms]) => ({ name, cpuMsPerFlow: ms })), { cores, scope: 'local' }),
    chain: p.chain === undefined ? { blocks: Math.round(p.rate * 20), meanGasUsedRatio: 0.012, overHalfFullShare: 0, baseFeeFirstWei: '1000000000', baseFeeLastWei: '120000000' } : p.chain,
    breaches: p.breaches ?? (pass ? [] : [`e2e.p95<2000ms (got ${(e2eP95Ms / 1000).toFixed(2)}s)`]),
    pass: pass && p.interrupted !== true,
    interrupted: p.interrupted === true,
    dir: `results/capacity-2026-11-23T16-51-51Z/step-${String(p.index ?? 1).padStart(2, '0')}-${p.rate}rps`,
  };
}

/** The steps of the example search, in the order they ran. */
export function exampleCapacitySteps(): CapacityStep[] {
  const plan: Array<[CapacityStep['phase'], number, boolean, number]> = [
    ['ramp', 5, true, 420],
    ['ramp', 7.5, true, 450],
    ['ramp', 11.3, true, 520],
    ['ramp', 17, true, 640],
    ['ramp', 25.5, true, 910],
    ['ramp', 38.3, false, 3_620],
    ['bisect', 31.9, true, 1_240],
    ['bisect', 35.1, false, 2_830],
    ['bisect', 33.5, true, 1_630],
  ];
  return plan.map(([phase, rate, pass, e2eP95Ms], i) =>
    capacityStepFixture({
      index: i + 1,
      phase,
      rate,
      pass,
      e2eP95Ms,
      // Confirmation waits pile up as anvil's blocks queue: the step whose p95 grows most.
      stepP95Ms: { encrypt: 6, upload_data: 15, upload_grant: 12, identity: 8, wrap_key: 3, sign: 5, relay: 60 + rate * 2, confirm: e2eP95Ms * 0.8, inference_submit: 40 + rate * 5, inference_wait: 20, verify: 1 },
    }),
  );
}

/** A whole search as capacity.json holds it. */
export function exampleCapacityResult({ steps = exampleCapacitySteps(), interrupted = false }: { steps?: CapacityStep[]; interrupted?: boolean } = {}): CapacityResult {
  const best = steps.filter((s) => s.pass).sort((a, b) => b.rate - a.rate)[0];
  return {
    version: 2,
    command: 'vana-load capacity --block-time 0 --step-duration 20s',
    date: '2026-11-23T16:51:51.000Z',
    environment: { node: 'v20.19.0', platform: 'linux', cpus: 2, loadAverageAtStart: 1.42, vanaLoad: '0.1.0' },
    options: {
      target: 'local',
      slo: { success: 0.99, p95Ms: 2_000, achieved: 0.97, drops: 0 },
      startRate: 5,
      step: '×1.5',
      maxRate: 60,
      stepDurationMs: 20_000,
      bisectSteps: 3,
      blockTime: 0,
      s2kCountByte: 96,
      maxInFlight: 360,
      seed: 1,
      reuseStack: false,
      quick: false,
      resultsDir: 'results',
    },
    conditions: { target: 'local', blockTimeSeconds: 0, relayers: 4, inference: 'sim, latency 0, failures 0', dataSize: 'small', relay: 'api', inferenceMode: 'proxy', s2kCountByte: 96, freshStackPerStep: true },
    result: summarizeCapacity(steps, { maxRate: 60, cores: 2, interrupted, error: null }),
    best: best ? { step: best.index, steps: { e2e: { count: 670, min: 120, mean: 480, p50: 327, p90: 1_200, p95: best.e2eP95Ms!, p99: 2_400, p999: 3_100, max: 3_300 } }, resources: [] } : null,
    steps,
  };
}
