import { MILESTONE_THRESHOLDS } from '../milestones/thresholds.ts';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../config/loadConfig.ts';
import { thresholdsForArtillery } from '../report/artilleryThresholds.ts';
import { buildArtilleryScript, configLoadPlan, milestoneLoadPlan, phasesOfPlan, toYaml } from './artilleryScript.ts';

describe('milestoneLoadPlan', () => {
  it("gives each load milestone's default model in Artillery's terms", () => {
    expect(milestoneLoadPlan('ms-03', {})).toEqual({ kind: 'count', name: 'ms-03', count: 25, durationS: 1 });
    expect(milestoneLoadPlan('ms-05', {})).toEqual({ kind: 'rate', name: 'ms-05', rate: 2.5, durationS: 800, maxVusers: 200, poisson: true });
    expect(milestoneLoadPlan('ms-04', { rate: 4 })).toEqual({
      kind: 'ramps',
      phases: [
        { name: 'ramp_up', from: 0, to: 4, durationS: 5 },
        { name: 'sustain', from: 4, to: 4, durationS: 5 },
        { name: 'ramp_down', from: 4, to: 0, durationS: 5 },
      ],
      maxVusers: 20,
    });
  });

  it('lets the load flags change the model: users and rate set the stream, a duration caps it', () => {
    expect(milestoneLoadPlan('ms-05', { users: 1_000, rate: 20, maxInFlight: 50 })).toMatchObject({ rate: 20, durationS: 50, maxVusers: 50 });
    expect(milestoneLoadPlan('ms-05', { users: 1_000, rate: 20, durationS: 30 })).toMatchObject({ durationS: 30 });
  });

  it('error: refuses MS-04 without --rate, whose default ramps concurrent users', () => {
    expect(() => milestoneLoadPlan('ms-04', {})).toThrow('MS-04 on Artillery needs --rate');
  });
});

describe('configLoadPlan', () => {
  const load = (env: Record<string, string>) => loadConfig({ env }).load;

  it('maps poisson, phased and one-flow closed models', () => {
    expect(configLoadPlan(load({ VANA_LOAD_MODEL: 'poisson', VANA_RATE: '5', VANA_DURATION: '40s', VANA_MAX_IN_FLIGHT: '80' }))).toEqual({
      kind: 'rate',
      name: 'poisson',
      rate: 5,
      durationS: 40,
      maxVusers: 80,
      poisson: true,
    });
    expect(configLoadPlan(load({ VANA_LOAD_MODEL: 'phased', VANA_RATE: '3', VANA_RAMP_UP: '10s', VANA_SUSTAIN: '20s', VANA_RAMP_DOWN: '0s' }))).toMatchObject({
      kind: 'ramps',
      phases: [
        { name: 'ramp_up', from: 0, to: 3, durationS: 10 },
        { name: 'sustain', from: 3, to: 3, durationS: 20 },
      ],
    });
    expect(configLoadPlan(load({ VANA_USERS: '12', VANA_CONCURRENCY: '12', VANA_STAGGER_START: '3s' }))).toEqual({ kind: 'count', name: 'closed', count: 12, durationS: 3 });
  });

  it('error: refuses a closed model whose users run several flows', () => {
    expect(() => configLoadPlan(load({ VANA_ITERATIONS: '0', VANA_DURATION: '1m' }))).toThrow('The closed model with --iterations 0 has no Artillery equivalent');
  });
});

describe('phasesOfPlan', () => {
  it('puts the warm-up pause first and writes ramps with rampTo, constant phases without', () => {
    expect(phasesOfPlan(milestoneLoadPlan('ms-04', { rate: 4, sustainS: 0 }), 15)).toEqual([
      { name: 'vana-warmup', pause: 15 },
      { name: 'ramp_up', duration: 5, arrivalRate: 0, rampTo: 4, maxVusers: 20 },
      { name: 'ramp_down', duration: 5, arrivalRate: 4, rampTo: 0, maxVusers: 20 },
    ]);
    expect(phasesOfPlan(milestoneLoadPlan('ms-03', {}), 0)).toEqual([{ name: 'ms-03', duration: 1, arrivalCount: 25 }]);
  });
});

describe('buildArtilleryScript', () => {
  it('writes the engine, its settings, poisson mode and the expressible thresholds as ensure conditions', () => {
    const { script, reportOnly, notes } = buildArtilleryScript({
      plan: milestoneLoadPlan('ms-05', {}),
      thresholds: thresholdsForArtillery(MILESTONE_THRESHOLDS['ms-05'], ['e2e.p99<60s']),
      vana: { manifest: '.vana-load/stack.json', relay: 'api' },
      warmupS: 15,
    });
    expect(toYaml(script as never)).toMatchInlineSnapshot(`
      "config:
        target: "vana"
        phases:
          - name: "vana-warmup"
            pause: 15
          - name: "ms-05"
            duration: 800
            arrivalRate: 2.5
            maxVusers: 200
        mode: "poisson"
        engines:
          vana: {}
        vana:
          manifest: ".vana-load/stack.json"
          relay: "api"
        plugins:
          ensure:
            conditions:
              - expression: "vana.e2e.p95 <= 45000"
                strict: true
              - expression: "vana.flows.succeeded / vana.flows.completed >= 0.85"
                strict: true
              - expression: "vana.e2e.p99 < 60000"
                strict: true
      scenarios:
        - name: "data-portability"
          engine: "vana"
          flow: []
      "
    `);
    expect(reportOnly.map((r) => r.expression)).toEqual(['achieved_rate>=2.5', 'harness.rss_peak<1GB', 'funding_latency_p95<30s']);
    expect(notes[0]).toMatch(/^arrivalRate 2.5 is fractional/);
  });
});

describe('toYaml', () => {
  it('quotes every string as JSON, so a value never changes type, and quotes keys that need it', () => {
    expect(toYaml({ a: 'yes', b: '1', 'c d': [1, true, null], e: [], f: {} })).toBe('a: "yes"\nb: "1"\n"c d":\n  - 1\n  - true\n  - null\ne: []\nf: {}\n');
  });
});
