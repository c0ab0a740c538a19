/**
 * The pure core of the fault proxy: which faults a request meets and what happens to it, as a
 * function of the faults, the request, the time since the proxy started and a random source.
 *
 * Composition. Faults are evaluated in their order. A fault is *offered* a request when the
 * request is inside its window and matches its filter; each offered fault draws one random
 * number and *fires* when it is below its `rate`. A `latency` fault that fires adds its delay and
 * evaluation goes on; the first other fault that fires is the request's fate and ends evaluation
 * (faults after it are not offered). So `[latency, status]` delays every request and fails some;
 * `[status 503 rate 0.1, status 500 rate 0.1]` fails 10 % with 503 and 9 % (10 % of the rest)
 * with 500. With a seeded random source and requests in the same order, the outcome is the same
 * on every run.
 */
import { ConfigError } from '../errors.ts';
import { createLognormalSampler } from '../servers/personalServer/lognormalSampler.ts';
import type { RandomSource } from '../util/seededRandom.ts';
import { FAULT_KINDS, type FaultSpec } from './faultSpec.ts';

/** A fault ready to be matched: filters compiled, defaults applied. */
export interface CompiledFault {
  readonly spec: FaultSpec;
  readonly name: string;
  readonly rate: number;
  readonly fromMs: number;
  readonly untilMs: number;
  readonly methods: ReadonlySet<string> | undefined;
  readonly path: RegExp | undefined;
  readonly rpcMethods: readonly RegExp[] | undefined;
  /** Draws one delay in ms (latency faults only). */
  readonly sampleDelay: ((random: RandomSource) => number) | undefined;
}

/** What the proxy knows of a request when it plans. */
export interface RequestFacts {
  /** Upper-case HTTP method. */
  method: string;
  /** Path without the query, as the client sent it. */
  path: string;
  /** JSON-RPC methods of the body; undefined when the body was not read (no fault needs it). */
  rpcMethods: readonly string[] | undefined;
}

export interface FaultPlan {
  /** Indexes of the faults offered the request, in order. */
  offered: number[];
  /** Indexes of the faults that fired (a subset of `offered`). */
  fired: number[];
  /** Total delay of the latency faults that fired, ms. */
  delayMs: number;
  /** Index of the terminal fault that fired, if any. */
  action: number | undefined;
}

const fail = (message: string): never => {
  throw new ConfigError(message, { code: 'FAULT_INVALID' });
};

const isNonNegative = (n: unknown): n is number => typeof n === 'number' && Number.isFinite(n) && n >= 0;

/**
 * Turns a glob into an anchored RegExp. In paths `*` and `?` stay within a segment and `**` crosses
 * segments; with `segments = false` (JSON-RPC method names) `*` matches anything.
 */
export function globToRegExp(glob: string, segments = true): RegExp {
  let source = '';
  for (let i = 0; i < glob.length; i++) {
    const c = glob[i] as string;
    if (c === '*' && glob[i + 1] === '*') {
      source += '.*';
      i++;
    } else if (c === '*') source += segments ? '[^/]*' : '.*';
    else if (c === '?') source += segments ? '[^/]' : '.';
    else source += c.replace(/[.+^${}()|[\]\\]/g, '\\$&');
  }
  return new RegExp(`^${source}$`);
}

const asList = (value: string | readonly string[]): readonly string[] => (typeof value === 'string' ? [value] : value);

function compileDelay(spec: FaultSpec & { kind: 'latency' }, label: string): (random: RandomSource) => number {
  const delay = spec.delay as Record<string, unknown> | undefined;
  if (delay !== undefined && 'p50Ms' in delay) {
    const { p50Ms, p95Ms } = delay;
    if (!isNonNegative(p50Ms) || !isNonNegative(p95Ms) || p95Ms < p50Ms) {
      fail(`${label}: expected delay 0 <= p50Ms <= p95Ms, got p50Ms=${String(p50Ms)} p95Ms=${String(p95Ms)}`);
    }
    // The sampler holds on to one random source; this one forwards to the source of each draw.
    let source: RandomSource = () => 0;
    const sample = createLognormalSampler({ p50Ms: p50Ms as number, p95Ms: p95Ms as number }, () => source());
    return (random) => {
      source = random;
      return sample();
    };
  }
  const ms = delay?.ms;
  const jitterMs = delay?.jitterMs ?? 0;
  if (!isNonNegative(ms) || !isNonNegative(jitterMs)) {
    fail(`${label}: expected delay { ms >= 0, jitterMs >= 0 } or { p50Ms, p95Ms }, got ${JSON.stringify(delay)}`);
  }
  return jitterMs === 0 ? () => ms as number : (random) => (ms as number) + random() * (jitterMs as number);
}

function checkKind(spec: FaultSpec, label: string): void {
  switch (spec.kind) {
    case 'status':
      if (!Number.isInteger(spec.status) || spec.status < 400 || spec.status > 599) {
        fail(`${label}: expected status an integer in [400, 599], got ${spec.status}`);
      }
      return;
    case 'rate_limit':
      if (!isNonNegative(spec.retryAfterMs)) fail(`${label}: expected retryAfterMs >= 0, got ${spec.retryAfterMs}`);
      return;
    case 'truncate':
      if (spec.keepBytes !== undefined && !(Number.isSafeInteger(spec.keepBytes) && spec.keepBytes >= 0)) {
        fail(`${label}: expected keepBytes an integer >= 0, got ${spec.keepBytes}`);
      }
      if (spec.keepFraction !== undefined && !(isNonNegative(spec.keepFraction) && spec.keepFraction < 1)) {
        fail(`${label}: expected keepFraction in [0, 1), got ${spec.keepFraction}`);
      }
      return;
    default:
  }
}

/**
 * Checks faults and compiles their filters. Throws a `ConfigError` (code `FAULT_INVALID`) naming
 * the fault and the field on a bad value.
 *
 * @example
 * const faults = compileFaults([{ kind: 'status', status: 503, rate: 0.1, path: '/files/*' }]);
 */
export function compileFaults(specs: readonly FaultSpec[]): CompiledFault[] {
  return specs.map((spec, index) => {
    const name = spec.name ?? `${spec.kind}#${index}`;
    const label = `fault ${index} (${name})`;
    if (!(FAULT_KINDS as readonly string[]).includes(spec.kind)) {
      fail(`${label}: expected kind one of ${FAULT_KINDS.join(', ')}, got ${String(spec.kind)}`);
    }
    const rate = spec.rate ?? 1;
    if (!(isNonNegative(rate) && rate <= 1)) fail(`${label}: expected rate in [0, 1], got ${rate}`);
    const fromMs = spec.fromMs ?? 0;
    const untilMs = spec.untilMs ?? Number.POSITIVE_INFINITY;
    if (!isNonNegative(fromMs)) fail(`${label}: expected fromMs >= 0, got ${fromMs}`);
    if (!(untilMs > fromMs)) fail(`${label}: expected untilMs > fromMs (${fromMs}), got ${untilMs}`);
    checkKind(spec, label);
    const methods = spec.method === undefined ? undefined : new Set(asList(spec.method).map((m) => m.toUpperCase()));
    const path = spec.path === undefined ? undefined : typeof spec.path === 'string' ? globToRegExp(spec.path) : spec.path;
    const rpcMethods = spec.rpcMethod === undefined ? undefined : asList(spec.rpcMethod).map((m) => globToRegExp(m, false));
    const sampleDelay = spec.kind === 'latency' ? compileDelay(spec, label) : undefined;
    return { spec, name, rate, fromMs, untilMs, methods, path, rpcMethods, sampleDelay };
  });
}

function inWindow(fault: CompiledFault, elapsedMs: number): boolean {
  return elapsedMs >= fault.fromMs && elapsedMs < fault.untilMs;
}

function matchesHttp(fault: CompiledFault, method: string, path: string): boolean {
  if (fault.methods !== undefined && !fault.methods.has(method)) return false;
  if (fault.path !== undefined) {
    // A caller's RegExp may carry the g or y flag: its lastIndex must not leak between requests.
    if (fault.path.global || fault.path.sticky) fault.path.lastIndex = 0;
    if (!fault.path.test(path)) return false;
  }
  return true;
}

/**
 * Whether the proxy must read the body before planning: some fault in its window matches the
 * request's method and path and filters on JSON-RPC methods.
 */
export function needsRpcMethods(faults: readonly CompiledFault[], method: string, path: string, elapsedMs: number): boolean {
  return faults.some((f) => f.rpcMethods !== undefined && inWindow(f, elapsedMs) && matchesHttp(f, method, path));
}

/**
 * The JSON-RPC method names in a request body: one for a call, one per call for a batch, none
 * when the body is not JSON or not JSON-RPC.
 */
export function rpcMethodsOf(body: Uint8Array): string[] {
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(body.buffer, body.byteOffset, body.byteLength).toString('utf8'));
  } catch {
    return [];
  }
  const calls = Array.isArray(parsed) ? parsed : [parsed];
  const methods: string[] = [];
  for (const call of calls) {
    const method = typeof call === 'object' && call !== null ? (call as { method?: unknown }).method : undefined;
    if (typeof method === 'string') methods.push(method);
  }
  return methods;
}

/**
 * Plans one request: which faults are offered, which fire, the delay, and the terminal fault.
 * Draws one random number per offered fault, plus those of the delays that fire, in fault order.
 *
 * @example
 * const plan = planFaults(compileFaults(specs), { method: 'PUT', path: '/files/a', rpcMethods: undefined }, 12_000, random);
 */
export function planFaults(faults: readonly CompiledFault[], request: RequestFacts, elapsedMs: number, random: RandomSource): FaultPlan {
  const plan: FaultPlan = { offered: [], fired: [], delayMs: 0, action: undefined };
  for (const [index, fault] of faults.entries()) {
    if (!inWindow(fault, elapsedMs) || !matchesHttp(fault, request.method, request.path)) continue;
    if (fault.rpcMethods !== undefined) {
      const called = request.rpcMethods ?? [];
      if (!called.some((m) => fault.rpcMethods!.some((re) => re.test(m)))) continue;
    }
    plan.offered.push(index);
    if (!(random() < fault.rate)) continue;
    plan.fired.push(index);
    if (fault.sampleDelay) {
      plan.delayMs += fault.sampleDelay(random);
      continue;
    }
    plan.action = index;
    break;
  }
  return plan;
}
