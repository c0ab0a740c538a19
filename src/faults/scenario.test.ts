import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError } from '../errors.ts';
import { PROCESS_FAULT_COMMON_KEYS, PROCESS_FAULT_KIND_KEYS } from './readProcessFault.ts';
import {
  FAULT_COMMON_KEYS,
  FAULT_KIND_KEYS,
  SCENARIO_KEYS,
  faultsFor,
  loadScenarioFile,
  parseExpectation,
  parseExpectationFlag,
  parseFaultFlag,
  parseScenario,
  scenarioFromFlags,
} from './scenario.ts';
import { lastWindowEndMs, scaleScenarioTime, scenarioDurationMs } from './scenarioTime.ts';

const EXAMPLES = 'milestones/ms-06/scenarios';

/** The message of the ConfigError that `fn` throws (the test fails if it throws anything else). */
function configError(fn: () => unknown): string {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return (err as ConfigError).message;
  }
  throw new Error('Expected a ConfigError');
}

const minimal = (fault: Record<string, unknown>, extra: Record<string, unknown> = {}) => ({ name: 's', boundary: 'storage', faults: [fault], ...extra });

describe('loadScenarioFile', () => {
  it('parses every example scenario, each with a description and expectations', () => {
    const files = readdirSync(EXAMPLES).filter((f) => f.endsWith('.json'));
    expect(files.sort()).toEqual([
      'api-relay-5xx-resets.json',
      'chain-pause.json',
      'personal-server-429.json',
      'personal-server-restart.json',
      'relayer-drain.json',
      'rpc-blackhole-timeouts.json',
      'rpc-latency.json',
      'storage-5xx-10pct.json',
      'storage-truncate.json',
    ]);
    for (const file of files) {
      const scenario = loadScenarioFile(join(EXAMPLES, file));
      expect(scenario.name).toBe(file.replace(/\.json$/, ''));
      expect(scenario.description.length).toBeGreaterThan(100);
      expect(scenario.expect.map((e) => e.metric)).toContain('unaccounted');
    }
  });

  it('has every scenario and fault key documented in the scenarios README', () => {
    const readme = readFileSync(join(EXAMPLES, 'README.md'), 'utf8');
    const keys = [...SCENARIO_KEYS, ...FAULT_COMMON_KEYS, ...Object.values(FAULT_KIND_KEYS).flat(), ...PROCESS_FAULT_COMMON_KEYS, ...Object.values(PROCESS_FAULT_KIND_KEYS).flat()];
    expect(keys.filter((key) => !readme.includes(`\`${key}\``))).toEqual([]);
  });

  it('turns the storage example into typed, frozen values', () => {
    const scenario = loadScenarioFile(join(EXAMPLES, 'storage-5xx-10pct.json'));
    expect({ ...scenario, description: '…' }).toEqual({
      name: 'storage-5xx-10pct',
      description: '…',
      seed: 1,
      durationMs: undefined,
      processFaults: [],
      faults: [
        { kind: 'status', name: 'upload-503', boundary: 'storage', rate: 0.1, fromMs: 10_000, untilMs: 40_000, method: ['PUT', 'POST'], status: 503 },
        { kind: 'status', name: 'download-503', boundary: 'storage', rate: 0.1, fromMs: 10_000, untilMs: 40_000, method: ['GET'], path: '/blobs/**', status: 503 },
      ],
      expect: [
        { expression: 'success_rate>=0.95', metric: 'success_rate', op: '>=', value: 0.95, source: join(EXAMPLES, 'storage-5xx-10pct.json') },
        { expression: 'recovery<10s', metric: 'recovery', op: '<', value: 10_000, source: join(EXAMPLES, 'storage-5xx-10pct.json') },
        { expression: 'unaccounted==0', metric: 'unaccounted', op: '==', value: 0, source: join(EXAMPLES, 'storage-5xx-10pct.json') },
        { expression: 'injected>0', metric: 'injected', op: '>', value: 0, source: join(EXAMPLES, 'storage-5xx-10pct.json') },
      ],
      source: join(EXAMPLES, 'storage-5xx-10pct.json'),
    });
    expect(Object.isFrozen(scenario)).toBe(true);
    expect(Object.isFrozen(scenario.faults)).toBe(true);
    expect(Object.isFrozen(scenario.faults[0])).toBe(true);
    expect(Object.isFrozen(scenario.faults[0]!.method)).toBe(true);
    expect(Object.isFrozen(scenario.expect[0])).toBe(true);
  });

  it('reads latency delays, fixed with jitter or lognormal, and JSON-RPC filters', () => {
    const scenario = loadScenarioFile(join(EXAMPLES, 'rpc-latency.json'));
    expect(scenario.faults.map((f) => (f.kind === 'latency' ? [f.name, f.delay, f.rpcMethod] : []))).toEqual([
      ['rtt', { ms: 150, jitterMs: 100 }, undefined],
      ['congested-node', { p50Ms: 500, p95Ms: 2_000 }, ['eth_sendRawTransaction', 'eth_getTransactionReceipt']],
    ]);
  });

  it('error: names the file when it is missing or not JSON', () => {
    const dir = mkdtempSync(join(tmpdir(), 'scenario-'));
    try {
      const bad = join(dir, 'bad.json');
      writeFileSync(bad, '{ "name": "x", }');
      expect(configError(() => loadScenarioFile(bad))).toMatch(/^.*bad\.json: not valid JSON \(.+\)$/);
      expect(configError(() => loadScenarioFile(join(dir, 'none.json')))).toBe(`Cannot read the scenario file ${join(dir, 'none.json')}`);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('parseScenario', () => {
  it('defaults the seed to 1, fault names to <boundary>:<kind>#<index>, and expectations to none', () => {
    const scenario = parseScenario(minimal({ kind: 'reset' }), 'x.json');
    expect([scenario.seed, scenario.faults[0]!.name, scenario.expect]).toEqual([1, 'storage:reset#0', []]);
  });

  it('takes durations as text or as whole milliseconds, and rates as numbers or percents', () => {
    const scenario = parseScenario(minimal({ kind: 'status', status: 500, from: 1_500, until: '1m30s', rate: '25%' }), 'x.json');
    expect(scenario.faults[0]).toMatchObject({ fromMs: 1_500, untilMs: 90_000, rate: 0.25 });
  });

  it('lets a fault name its own boundary, and faultsFor picks the faults of one boundary', () => {
    const scenario = parseScenario(
      { name: 'mixed', faults: [{ kind: 'reset', boundary: 'rpc' }, { kind: 'status', status: 502, boundary: 'api' }, { kind: 'blackhole', boundary: 'rpc', when: 'after_upstream' }] },
      'x.json',
    );
    expect(faultsFor(scenario, 'rpc').map((f) => f.name)).toEqual(['rpc:reset#0', 'rpc:blackhole#2']);
    expect(faultsFor(scenario, 'storage')).toEqual([]);
  });

  it('compiles path_regex into a RegExp', () => {
    const scenario = parseScenario(minimal({ kind: 'reset', path_regex: '^/operations/[0-9a-f]+$' }), 'x.json');
    expect(scenario.faults[0]!.path).toEqual(/^\/operations\/[0-9a-f]+$/);
  });

  it('error: names the field and what it accepts', () => {
    const cases: Array<[unknown, string]> = [
      [[], 'x.json: the scenario must be an object, got []'],
      [{ faults: [] }, "x.json: name must be a name of letters, digits and . _ : # - (at most 100), got nothing"],
      [{ name: 's', faults: [] }, 'x.json: faults must be a non-empty array of faults, got []'],
      [{ name: 's', faults: [{ kind: 'reset' }] }, 'x.json: faults[0].boundary must be one of rpc, storage, api, personal_server (here or at the scenario\'s top level), got nothing'],
      [{ name: 's', boundary: 'chain', faults: [{ kind: 'reset' }] }, "x.json: boundary must be one of rpc, storage, api, personal_server, got 'chain'"],
      [minimal({ kind: 'explode' }), "x.json: faults[0].kind must be one of latency, status, rate_limit, reset, blackhole, truncate, personal_server_restart, relayer_drain, chain_pause, got 'explode'"],
      [minimal({ kind: 'status', status: 503, rate: 2 }), 'x.json: faults[0].rate must be a probability in [0, 1] (e.g. 0.1) or a percent (10%), got 2'],
      [minimal({ kind: 'status', status: 200 }), 'x.json: faults[0].status must be an integer in [400, 599], got 200'],
      [minimal({ kind: 'status' }), 'x.json: faults[0].status must be an integer in [400, 599], got nothing'],
      [minimal({ kind: 'reset', from: '10 seconds' }), "x.json: faults[0].from must be a duration (e.g. 500ms, 90s, 2m) in [0, 30d], got '10 seconds'"],
      [minimal({ kind: 'reset', from: 1.5 }), 'x.json: faults[0].from must be a duration (e.g. 500ms, 90s, 2m) in [0, 30d], or a whole number of ms, got 1.5'],
      [minimal({ kind: 'reset', from: '20s', until: '10s' }), "x.json: faults[0].until must be a duration after from ('20s'), got '10s'"],
      [minimal({ kind: 'reset', retry_after: '1s' }), "x.json: faults[0].retry_after is not a known key here; accepted: kind, name, boundary, rate, from, until, method, path, path_regex, rpc_method, when"],
      [minimal({ kind: 'latency' }), 'x.json: faults[0].ms must be set for a fixed delay (with jitter), or p50 and p95 for a lognormal one (not both), got nothing'],
      [minimal({ kind: 'latency', p50: '2s', p95: '1s' }), "x.json: faults[0].p95 must be at least p50 ('2s'), got '1s'"],
      [minimal({ kind: 'reset', path: 'files/*' }), "x.json: faults[0].path must be a path glob starting with '/' (* within a segment, ** across), got 'files/*'"],
      [minimal({ kind: 'reset', path_regex: '(' }), "x.json: faults[0].path_regex must be a valid JavaScript regular expression, got '('"],
      [minimal({ kind: 'reset', method: ['GET', 5] }), 'x.json: faults[0].method must be HTTP methods such as GET, PUT (a list: a JSON array, or joined with |), got ["GET",5]'],
      [minimal({ kind: 'reset', when: 'later' }), "x.json: faults[0].when must be one of before_upstream, after_upstream, got 'later'"],
      [minimal({ kind: 'truncate', keep_fraction: 1 }), 'x.json: faults[0].keep_fraction must be a fraction in [0, 1), got 1'],
      [{ ...minimal({ kind: 'reset', name: 'a' }), faults: [{ kind: 'reset', name: 'a' }, { kind: 'reset', name: 'a' }] }, "x.json: faults[1].name must be unique within the scenario, got 'a'"],
      [minimal({ kind: 'reset' }, { seed: -1 }), 'x.json: seed must be an integer in [0, 4294967295], got -1'],
      [minimal({ kind: 'reset' }, { expect: ['success_rate>=0.9'] }), 'x.json: expect must be an object, got ["success_rate>=0.9"]'],
      [minimal({ kind: 'reset' }, { extra: 1 }), "x.json: extra is not a known key here; accepted: name, description, boundary, seed, duration, faults, expect"],
    ];
    for (const [value, message] of cases) expect(configError(() => parseScenario(value, 'x.json'))).toBe(message);
  });
});

describe('parseExpectation', () => {
  it('reads survival metrics itself and hands the others to the threshold parser', () => {
    expect(parseExpectation('recovery', '<= 2m', 's.json')).toEqual({ expression: 'recovery<=2m', metric: 'recovery', op: '<=', value: 120_000, source: 's.json' });
    expect(parseExpectation('unaccounted', 0, 's.json')).toMatchObject({ expression: 'unaccounted==0', op: '==', value: 0 });
    expect(parseExpectation('e2e.p95', '<45s', 's.json')).toMatchObject({ metric: 'e2e.p95', op: '<', value: 45_000 });
    expect(parseExpectation('success_rate', '>=95%', 's.json')).toMatchObject({ metric: 'success_rate', value: 0.95 });
  });

  it('error: names the expectation and what it accepts', () => {
    expect(configError(() => parseExpectation('recovery', 'fast', 's.json'))).toBe("s.json: expect.recovery must be an operator and a duration, e.g. '<10s', got 'fast'");
    expect(configError(() => parseExpectation('unaccounted', '<1.5', 's.json'))).toBe("s.json: expect.unaccounted must be an operator and a count, e.g. '==0' (or the number 0), got '<1.5'");
    expect(configError(() => parseExpectation('success_rate', '>=2', 's.json'))).toBe(
      "s.json: expect.success_rate must be a threshold condition (bad threshold 'success_rate>=2': success_rate: ratio 2 is above 1; for a percent write 2%; survival metrics: recovery, unaccounted, injected), got '>=2'",
    );
    expect(configError(() => parseExpectation('uptime', '>1', 's.json'))).toMatch(/^s\.json: expect\.uptime must be a threshold condition \(bad threshold 'uptime>1': unknown metric 'uptime'/);
    expect(configError(() => parseExpectation('recovery', true, 's.json'))).toBe("s.json: expect.recovery must be a condition such as '>=0.95' or '<10s', or a number (==), got true");
  });
});

describe('parseFaultFlag', () => {
  it('reads <boundary>:<kind>=<value> and key=value options with the file keys', () => {
    expect(parseFaultFlag('storage:status=503,rate=0.1,from=10s,until=40s')).toEqual({
      kind: 'status',
      name: 'storage:status#0',
      boundary: 'storage',
      rate: 0.1,
      fromMs: 10_000,
      untilMs: 40_000,
      status: 503,
    });
    expect(parseFaultFlag('rpc:latency=200ms,jitter=50ms,rpc_method=eth_sendRawTransaction|eth_call', 3)).toEqual({
      kind: 'latency',
      name: 'rpc:latency#3',
      boundary: 'rpc',
      rpcMethod: ['eth_sendRawTransaction', 'eth_call'],
      delay: { ms: 200, jitterMs: 50 },
    });
    expect(parseFaultFlag('personal_server:rate_limit=2s,path=/operations,method=POST')).toMatchObject({ retryAfterMs: 2_000, path: '/operations', method: ['POST'] });
    expect(parseFaultFlag('api:reset=after_upstream,name=relay-lost')).toMatchObject({ kind: 'reset', when: 'after_upstream', name: 'relay-lost' });
    expect(parseFaultFlag('storage:truncate=0.25')).toMatchObject({ kind: 'truncate', keepFraction: 0.25 });
    expect(parseFaultFlag('storage:blackhole')).toMatchObject({ kind: 'blackhole', boundary: 'storage' });
    expect(parseFaultFlag('rpc:latency,p50=1s,p95=3s')).toMatchObject({ delay: { p50Ms: 1_000, p95Ms: 3_000 } });
  });

  it('error: names the option and what it accepts', () => {
    const cases: Array<[string, string]> = [
      ['status=503', "--fault 'status=503': the flag must be <boundary>:<kind>[=<value>][,<key>=<value>…] with boundary one of rpc, storage, api, personal_server, got 'status=503'"],
      ['disk:reset', "--fault 'disk:reset': boundary must be one of rpc, storage, api, personal_server, got 'disk'"],
      ['storage:slow=1s', "--fault 'storage:slow=1s': kind must be one of latency, status, rate_limit, reset, blackhole, truncate, personal_server_restart, relayer_drain, chain_pause, got 'slow'"],
      ['storage:status=503,rate=lots', "--fault 'storage:status=503,rate=lots': rate must be a probability in [0, 1] (e.g. 0.1) or a percent (10%), got 'lots'"],
      ['storage:status=503,rate', "--fault 'storage:status=503,rate': rate must be written <key>=<value>, got 'rate'"],
      ['storage:status=503,rate=0.1,rate=0.2', "--fault 'storage:status=503,rate=0.1,rate=0.2': rate must be given once, got 'rate=0.2'"],
      ['storage:status=503,boundary=rpc', "--fault 'storage:status=503,boundary=rpc': boundary must be given before the first comma (<boundary>:<kind>), got 'boundary=rpc'"],
      ['storage:status=503,jitter=1s', "--fault 'storage:status=503,jitter=1s': jitter is not a known key here; accepted: kind, name, boundary, rate, from, until, method, path, path_regex, rpc_method, status, body"],
      ['storage:latency=1s,from=10000', "--fault 'storage:latency=1s,from=10000': from must be a duration (e.g. 500ms, 90s, 2m) in [0, 30d], got '10000'"],
    ];
    for (const [flag, message] of cases) expect(configError(() => parseFaultFlag(flag))).toBe(message);
  });
});

describe('scenarioFromFlags', () => {
  it('builds a frozen scenario from --fault and --expect flags', () => {
    const scenario = scenarioFromFlags({ faults: ['storage:status=503,rate=0.1', 'rpc:latency=100ms'], expect: ['recovery<10s', 'success_rate>=0.9'], seed: 9 });
    expect([scenario.name, scenario.source, scenario.seed]).toEqual(['flags', 'flags', 9]);
    expect(scenario.faults.map((f) => f.name)).toEqual(['storage:status#0', 'rpc:latency#1']);
    expect(scenario.expect.map((e) => [e.metric, e.op, e.value])).toEqual([
      ['recovery', '<', 10_000],
      ['success_rate', '>=', 0.9],
    ]);
    expect(Object.isFrozen(scenario) && Object.isFrozen(scenario.faults) && Object.isFrozen(scenario.expect)).toBe(true);
  });

  it('error: needs at least one --fault and well-formed --expect flags', () => {
    expect(configError(() => scenarioFromFlags({ faults: [] }))).toBe('flags: --fault must be given at least once, got []');
    expect(configError(() => scenarioFromFlags({ faults: ['api:reset'], expect: ['recovery'] }))).toBe(
      "flags: --expect must be <metric><op><value>, e.g. 'recovery<10s', got 'recovery'",
    );
  });
});

describe('process faults', () => {
  it('reads the three kinds from a file, each with its own boundary, apart from the proxy faults', () => {
    const scenario = parseScenario(
      {
        name: 'p',
        boundary: 'storage',
        duration: '1m',
        faults: [
          { kind: 'status', status: 503 },
          { kind: 'personal_server_restart', from: '15s', until: '18s' },
          { name: 'dry', kind: 'relayer_drain', relayer: 2, balance: '0.001', from: '10s', until: '30s' },
          { kind: 'chain_pause', boundary: 'rpc', until: 5_000 },
        ],
      },
      'p.json',
    );
    expect(scenario.faults.map((f) => f.name)).toEqual(['storage:status#0']);
    expect(scenario.processFaults).toEqual([
      { kind: 'personal_server_restart', name: 'personal_server:personal_server_restart#1', boundary: 'personal_server', fromMs: 15_000, untilMs: 18_000 },
      { kind: 'relayer_drain', name: 'dry', boundary: 'api', fromMs: 10_000, untilMs: 30_000, relayer: 2, balanceWei: 10n ** 15n },
      { kind: 'chain_pause', name: 'rpc:chain_pause#3', boundary: 'rpc', fromMs: 0, untilMs: 5_000 },
    ]);
    expect(scenario.durationMs).toBe(60_000);
    expect(Object.isFrozen(scenario.processFaults) && Object.isFrozen(scenario.processFaults[1])).toBe(true);
  });

  it('reads them as flags too, the value after a drain being the relayer', () => {
    expect(parseFaultFlag('rpc:chain_pause,from=10s,until=20s', 2)).toEqual({ kind: 'chain_pause', name: 'rpc:chain_pause#2', boundary: 'rpc', fromMs: 10_000, untilMs: 20_000 });
    expect(parseFaultFlag('api:relayer_drain=1,until=5s')).toMatchObject({ kind: 'relayer_drain', relayer: 1, balanceWei: 0n, fromMs: 0, untilMs: 5_000 });
    const scenario = scenarioFromFlags({ faults: ['personal_server:personal_server_restart,from=1s,until=2s', 'storage:reset'], duration: '45s' });
    expect([scenario.faults.length, scenario.processFaults.length, scenario.durationMs]).toEqual([1, 1, 45_000]);
  });

  it('error: names the field and what it accepts', () => {
    const cases: Array<[unknown, string]> = [
      [{ name: 's', faults: [{ kind: 'chain_pause', from: '1s' }] }, 'x.json: faults[0].until must be a duration: when the chain_pause ends (a process fault is always undone), got nothing'],
      [{ name: 's', faults: [{ kind: 'chain_pause', boundary: 'storage', until: '1s' }] }, "x.json: faults[0].boundary must be rpc (a chain_pause breaks that boundary) or absent, got 'storage'"],
      [{ name: 's', faults: [{ kind: 'chain_pause', rate: 0.5, until: '1s' }] }, 'x.json: faults[0].rate is not a known key here; accepted: kind, name, boundary, from, until'],
      [{ name: 's', faults: [{ kind: 'relayer_drain', relayer: -1, until: '1s' }] }, 'x.json: faults[0].relayer must be an integer in [0, 999], got -1'],
      [{ name: 's', faults: [{ kind: 'relayer_drain', balance: 'lots', until: '1s' }] }, "x.json: faults[0].balance must be an amount in ether units (e.g. 0.01, up to 18 decimals) in [0, 1000000], got 'lots'"],
      [
        { name: 's', faults: [{ name: 'a', kind: 'chain_pause', from: '1s', until: '5s' }, { name: 'b', kind: 'chain_pause', from: '4s', until: '6s' }] },
        'x.json: faults a and b must be windows that do not overlap (two chain_pause faults at once), got [1000,5000,4000,6000]',
      ],
      [{ name: 's', duration: '0s', faults: [{ kind: 'chain_pause', until: '1s' }] }, "x.json: duration must be a duration (e.g. 500ms, 90s, 2m) in [1s, 30d], got '0s'"],
    ];
    for (const [value, message] of cases) expect(configError(() => parseScenario(value, 'x.json'))).toBe(message);
    expect(configError(() => parseFaultFlag('rpc:chain_pause=now,until=1s'))).toBe("--fault 'rpc:chain_pause=now,until=1s': chain_pause must be given without a value (its options follow as <key>=<value>), got 'chain_pause=now'");
    // Drains of two different relayers may overlap.
    expect(parseScenario({ name: 's', faults: [{ kind: 'relayer_drain', relayer: 0, until: '5s' }, { kind: 'relayer_drain', relayer: 1, until: '5s' }] }, 'x.json').processFaults).toHaveLength(2);
  });
});

describe('scenario time', () => {
  const scenario = parseScenario(
    { name: 't', faults: [{ kind: 'status', status: 503, boundary: 'storage', from: '10s', until: '40s' }, { kind: 'chain_pause', from: '5s', until: '50s' }, { kind: 'reset', boundary: 'api' }] },
    't.json',
  );

  it('runs until the last window ends plus a 20 s tail, at least 30 s, unless the scenario says', () => {
    expect([lastWindowEndMs(scenario), scenarioDurationMs(scenario)]).toEqual([50_000, 70_000]);
    const whole = parseScenario({ name: 'w', faults: [{ kind: 'reset', boundary: 'api' }] }, 'w.json');
    expect([lastWindowEndMs(whole), scenarioDurationMs(whole)]).toEqual([undefined, 30_000]);
    expect(scenarioDurationMs({ ...whole, durationMs: 12_000 })).toBe(12_000);
  });

  it('scales windows and the duration, not the faults themselves', () => {
    const quick = scaleScenarioTime(scenario, 0.25);
    expect(quick.faults.map((f) => [f.fromMs, f.untilMs])).toEqual([[2_500, 10_000], [undefined, undefined]]);
    expect(quick.processFaults.map((f) => [f.fromMs, f.untilMs])).toEqual([[1_250, 12_500]]);
    expect([quick.durationMs, quick.faults[0]!.kind === 'status' && quick.faults[0]!.status]).toEqual([17_500, 503]);
    expect(scaleScenarioTime(scenario, 1)).toBe(scenario);
    expect(configError(() => scaleScenarioTime(scenario, 0))).toBe('Expected a time scale above 0, got 0');
  });
});

describe('parseExpectationFlag', () => {
  it('reads <metric><op><value> for survival and run metrics, naming the flag', () => {
    expect(parseExpectationFlag('recovery<5s', '--threshold')).toEqual({ expression: 'recovery<5s', metric: 'recovery', op: '<', value: 5_000, source: "--threshold 'recovery<5s'" });
    expect(parseExpectationFlag('e2e.p95 < 30s', '--threshold')).toMatchObject({ metric: 'e2e.p95', value: 30_000 });
    expect(configError(() => parseExpectationFlag('fast', '--threshold'))).toBe("flags: --threshold must be <metric><op><value>, e.g. 'recovery<10s', got 'fast'");
  });
});
