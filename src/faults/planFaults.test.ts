import { describe, expect, it } from 'vitest';
import { ConfigError } from '../errors.ts';
import { createSeededRandom, type RandomSource } from '../util/seededRandom.ts';
import type { FaultSpec } from './faultSpec.ts';
import { compileFaults, globToRegExp, needsRpcMethods, planFaults, rpcMethodsOf, type RequestFacts } from './planFaults.ts';

const GET = (path: string, rpcMethods?: string[]): RequestFacts => ({ method: 'GET', path, rpcMethods });
const POST = (path: string, rpcMethods?: string[]): RequestFacts => ({ method: 'POST', path, rpcMethods });

/** A random source returning `values` in turn, so each draw is visible in the test. */
const sequence = (...values: number[]): RandomSource => {
  let i = 0;
  return () => {
    if (i >= values.length) throw new Error(`draw ${i + 1} of a sequence of ${values.length}`);
    return values[i++]!;
  };
};

describe('planFaults', () => {
  it('lets latency add up and stops at the first terminal fault that fires', () => {
    const faults = compileFaults([
      { kind: 'latency', delay: { ms: 100 } },
      { kind: 'status', status: 503, rate: 0.5 },
      { kind: 'latency', delay: { ms: 40, jitterMs: 10 } },
      { kind: 'status', status: 500 },
      { kind: 'reset' },
    ]);
    // 503 misses (0.7 >= 0.5), second latency fires with jitter 0.5 * 10, 500 fires, reset is never offered.
    expect(planFaults(faults, GET('/'), 0, sequence(0.1, 0.7, 0.2, 0.5, 0.3))).toEqual({
      offered: [0, 1, 2, 3],
      fired: [0, 2, 3],
      delayMs: 145,
      action: 3,
    });
    // 503 fires: the faults after it are not offered.
    expect(planFaults(faults, GET('/'), 0, sequence(0.9, 0.4))).toEqual({ offered: [0, 1], fired: [0, 1], delayMs: 100, action: 1 });
  });

  it('hits a request when the draw is below the rate, never at rate 0, always at rate 1', () => {
    const [tenth, never, always] = [0.1, 0, 1].map((rate) => compileFaults([{ kind: 'status', status: 503, rate }]));
    expect(planFaults(tenth!, GET('/'), 0, sequence(0.0999)).action).toBe(0);
    expect(planFaults(tenth!, GET('/'), 0, sequence(0.1)).action).toBeUndefined();
    expect(planFaults(never!, GET('/'), 0, sequence(0)).action).toBeUndefined();
    expect(planFaults(always!, GET('/'), 0, sequence(0.999999)).action).toBe(0);
  });

  it('injects 101 of 1000 requests at rate 0.1 with seed 42, the same on every run', () => {
    const faults = compileFaults([{ kind: 'status', status: 503, rate: 0.1 }]);
    const count = (seed: number): number => {
      const random = createSeededRandom(seed);
      let hit = 0;
      for (let i = 0; i < 1000; i++) if (planFaults(faults, GET('/'), 0, random).action !== undefined) hit++;
      return hit;
    };
    expect(count(42)).toBe(101);
    expect(count(42)).toBe(101);
    expect(count(7)).toBe(108);
  });

  it('offers a fault only inside its window: from inclusive, until exclusive', () => {
    const faults = compileFaults([{ kind: 'status', status: 503, fromMs: 10_000, untilMs: 20_000 }]);
    const at = (ms: number) => planFaults(faults, GET('/'), ms, () => 0).action;
    expect([at(9_999), at(10_000), at(19_999), at(20_000)]).toEqual([undefined, 0, 0, undefined]);
  });

  it('filters by HTTP method, path glob or RegExp, and JSON-RPC method', () => {
    const faults = compileFaults([
      { kind: 'status', status: 500, method: ['put'], path: '/files/*' },
      { kind: 'status', status: 501, path: /^\/operations\/[^/]+$/ },
      { kind: 'status', status: 502, rpcMethod: ['eth_sendRawTransaction', 'eth_get*Receipt'] },
    ]);
    const action = (request: RequestFacts) => planFaults(faults, request, 0, () => 0).action;
    expect(action({ method: 'PUT', path: '/files/a.bin', rpcMethods: undefined })).toBe(0);
    expect(action({ method: 'PUT', path: '/files/a/b', rpcMethods: undefined })).toBeUndefined();
    expect(action(POST('/files/a.bin'))).toBeUndefined();
    expect(action(GET('/operations/abc'))).toBe(1);
    expect(action(GET('/operations/abc/cancel'))).toBeUndefined();
    expect(action(POST('/', ['eth_getTransactionReceipt']))).toBe(2);
    expect(action(POST('/', ['eth_chainId', 'eth_sendRawTransaction']))).toBe(2);
    expect(action(POST('/', ['eth_chainId']))).toBeUndefined();
    expect(action(POST('/', []))).toBeUndefined();
  });

  it('draws lognormal delays from the given source, reproducibly', () => {
    const faults = compileFaults([{ kind: 'latency', delay: { p50Ms: 200, p95Ms: 1_000 } }]);
    const delays = (seed: number) => {
      const random = createSeededRandom(seed);
      return Array.from({ length: 2_000 }, () => planFaults(faults, GET('/'), 0, random).delayMs);
    };
    const sorted = delays(3).sort((a, b) => a - b);
    expect(sorted[1_000]).toBeGreaterThan(180);
    expect(sorted[1_000]).toBeLessThan(220);
    expect(sorted[1_900]).toBeGreaterThan(850);
    expect(sorted[1_900]).toBeLessThan(1_150);
    expect(delays(3)).toEqual(delays(3));
  });
});

describe('needsRpcMethods', () => {
  it('is true only when an rpcMethod fault could apply to the request now', () => {
    const faults = compileFaults([{ kind: 'reset', rpcMethod: 'eth_call', method: 'POST', fromMs: 1_000 }]);
    expect(needsRpcMethods(faults, 'POST', '/', 1_000)).toBe(true);
    expect(needsRpcMethods(faults, 'POST', '/', 999)).toBe(false);
    expect(needsRpcMethods(faults, 'GET', '/', 1_000)).toBe(false);
    expect(needsRpcMethods(compileFaults([{ kind: 'reset' }]), 'POST', '/', 1_000)).toBe(false);
  });
});

describe('rpcMethodsOf', () => {
  const bytes = (text: string) => new TextEncoder().encode(text);

  it('reads the method of a call and of each call in a batch', () => {
    expect(rpcMethodsOf(bytes('{"jsonrpc":"2.0","id":1,"method":"eth_chainId","params":[]}'))).toEqual(['eth_chainId']);
    expect(rpcMethodsOf(bytes('[{"method":"eth_call"},{"id":2},{"method":"eth_blockNumber"}]'))).toEqual(['eth_call', 'eth_blockNumber']);
  });

  it('finds none in a body that is not JSON-RPC', () => {
    expect(rpcMethodsOf(bytes('not json'))).toEqual([]);
    expect(rpcMethodsOf(bytes('{"method":42}'))).toEqual([]);
    expect(rpcMethodsOf(bytes('null'))).toEqual([]);
    expect(rpcMethodsOf(new Uint8Array())).toEqual([]);
  });
});

describe('globToRegExp', () => {
  it('keeps * and ? within a path segment and lets ** cross segments', () => {
    expect(globToRegExp('/blobs/*').test('/blobs/abc')).toBe(true);
    expect(globToRegExp('/blobs/*').test('/blobs/abc/name')).toBe(false);
    expect(globToRegExp('/blobs/**').test('/blobs/abc/name')).toBe(true);
    expect(globToRegExp('/v?/x').test('/v2/x')).toBe(true);
    expect(globToRegExp('/a.b').test('/aXb')).toBe(false);
    expect(globToRegExp('eth_*', false).test('eth_get/x')).toBe(true);
  });
});

describe('compileFaults', () => {
  const problem = (spec: FaultSpec): string => {
    try {
      compileFaults([spec]);
    } catch (err) {
      expect(err).toBeInstanceOf(ConfigError);
      return (err as ConfigError).message;
    }
    throw new Error('compileFaults accepted a bad fault');
  };

  it('error: names the fault and the field of a bad value', () => {
    expect(problem({ kind: 'status', status: 503, rate: 1.5 })).toBe('fault 0 (status#0): expected rate in [0, 1], got 1.5');
    expect(problem({ kind: 'status', status: 200, name: 'ok' })).toBe('fault 0 (ok): expected status an integer in [400, 599], got 200');
    expect(problem({ kind: 'reset', fromMs: 5_000, untilMs: 5_000 })).toBe('fault 0 (reset#0): expected untilMs > fromMs (5000), got 5000');
    expect(problem({ kind: 'latency', delay: { p50Ms: 300, p95Ms: 100 } })).toBe(
      'fault 0 (latency#0): expected delay 0 <= p50Ms <= p95Ms, got p50Ms=300 p95Ms=100',
    );
    expect(problem({ kind: 'truncate', keepFraction: 1 })).toBe('fault 0 (truncate#0): expected keepFraction in [0, 1), got 1');
    expect(problem({ kind: 'explode' } as unknown as FaultSpec)).toBe(
      'fault 0 (explode#0): expected kind one of latency, status, rate_limit, reset, blackhole, truncate, got explode',
    );
  });
});
