import { describe, expect, it } from 'vitest';
import { createMetricsCollector } from '../metrics/collector.ts';
import { buildSummary, VANA_LOAD_VERSION } from '../metrics/summary.ts';
import type { RunSummary } from '../metrics/types.ts';
import { checkComparability, describeIssue } from './comparability.ts';
import { FIXTURE_CONFIG } from '../../test/fixtures/compareFixture.ts';

function summary(change: (s: RunSummary) => void = () => {}): RunSummary {
  const s = buildSummary({
    totals: createMetricsCollector().totals(),
    samples: [],
    runId: 'r',
    milestone: 'MS-03',
    startedAt: 0,
    endedAt: 1_000,
    config: structuredClone(FIXTURE_CONFIG),
    environment: { chainId: 31337, target: 'local', loadModel: 'closed', node: 'v20.19.0', platform: 'linux', cpus: 2, loadModelParams: { kind: 'closed', users: 10, iterations: 1 } },
  });
  change(s);
  return s;
}

describe('checkComparability', () => {
  it('error: refuses a run whose load generator fell behind, as baseline or candidate, naming its reasons', () => {
    const invalid = summary((s) => {
      s.verdict = 'invalid';
      s.generatorHealth = {
        status: 'invalid',
        reasons: ['event-loop lag p99 900ms over the 500ms limit at 0:20–0:40'],
        checks: [],
        limits: { schedulerLagP99Ms: 500, schedulerLagMaxMs: 3_000, eventLoopLagP99Ms: 500, eventLoopLagMaxMs: 3_000, harnessCpuPercent: 90, harnessFdsPercent: 80 },
        cpuWindowS: 10,
        dropped: { byHarness: 0, bySystem: {}, inUnhealthyWindows: 0 },
      };
    });
    const healthy = summary((s) => {
      s.generatorHealth = { ...structuredClone(invalid.generatorHealth!), status: 'ok', reasons: [] };
    });
    const issue = { field: 'generator health', baseline: 'INVALID (event-loop lag p99 900ms over the 500ms limit at 0:20–0:40)', candidate: 'ok', severity: 'refuse' };
    expect(checkComparability(invalid, healthy)).toEqual([issue]);
    expect(checkComparability(healthy, invalid)).toEqual([{ ...issue, baseline: 'ok', candidate: issue.baseline }]);
    expect(checkComparability(healthy, healthy)).toEqual([]);
  });

  it('finds nothing between runs of the same settings, whatever their seeds', () => {
    expect(checkComparability(summary(), summary((s) => void (s.environment.seed = 99)))).toEqual([]);
  });

  it('refuses another target or load model kind and warns of the rest, naming both values', () => {
    const candidate = summary((s) => {
      s.environment.target = 'remote';
      s.environment.loadModel = 'poisson';
      s.environment.loadModelParams = { kind: 'poisson', rate: 5, users: 100, maxInFlight: 50 };
      (s.config.data as Record<string, unknown>).size = 'large';
      (s.config.data as Record<string, unknown>).s2kCountByte = 96;
      (s.config.chain as Record<string, unknown>).blockTimeSeconds = 1;
      (s.config.relay as Record<string, unknown>).mode = 'direct';
      (s.config.inference as Record<string, unknown>).mode = 'personal-server';
      s.environment.vanaLoad = '0.2.0-test';
      s.environment.node = 'v22.1.0';
      s.interrupted = true;
    });
    expect(checkComparability(summary(), candidate).map(describeIssue)).toEqual([
      'target: baseline local, candidate remote',
      'load model: baseline closed, candidate poisson',
      'users: baseline 10, candidate 100',
      'rate (flows/s): baseline none, candidate 5',
      'load model parameters: baseline {"iterations":1}, candidate {"maxInFlight":50}',
      'data size: baseline small, candidate large',
      "S2K count byte: baseline openpgp's default (224), candidate 96",
      'block time (s): baseline 0.2, candidate 1',
      'relay mode: baseline api, candidate direct',
      'inference mode: baseline proxy, candidate personal-server',
      `vana-load version: baseline ${VANA_LOAD_VERSION}, candidate 0.2.0-test`,
      'node version: baseline v20.19.0, candidate v22.1.0',
      'interrupted: baseline false, candidate true',
    ]);
    expect(checkComparability(summary(), candidate).map((i) => i.severity).slice(0, 3)).toEqual(['refuse', 'refuse', 'warn']);
  });

  it('names a setting an older summary did not record', () => {
    const old = summary((s) => {
      delete s.environment.vanaLoad;
      delete s.environment.loadModelParams;
    });
    expect(checkComparability(old, summary()).map(describeIssue)).toEqual([
      'load model parameters: baseline not recorded, candidate {"iterations":1}',
      `vana-load version: baseline not recorded, candidate ${VANA_LOAD_VERSION}`,
    ]);
  });
});
