/**
 * Fault scenarios as data: a JSON file, or `--fault` flags, parsed once into frozen, typed values.
 * A scenario says which boundaries get which faults and what the run must show to pass; the
 * harness starts one fault proxy per boundary endpoint, injects the process faults
 * (`personal_server_restart`, `relayer_drain`, `chain_pause`: readProcessFault.ts) into the local
 * stack, and evaluates the expectations (MS-06).
 *
 * File (keys in snake_case; durations as text such as `500ms`, `10s`, `1m30s`, or a number of ms):
 * ```json
 * {
 *   "name": "storage-5xx-10pct",
 *   "description": "What it simulates (JSON has no comments).",
 *   "boundary": "storage",
 *   "seed": 1,
 *   "duration": "60s",
 *   "faults": [
 *     { "kind": "status", "status": 503, "rate": 0.1, "from": "10s", "until": "40s", "method": "PUT" },
 *     { "kind": "chain_pause", "from": "20s", "until": "25s" }
 *   ],
 *   "expect": { "success_rate": ">=0.95", "recovery": "<10s", "unaccounted": 0 }
 * }
 * ```
 * Flag: `<boundary>:<kind>[=<value>][,<key>=<value>…]`, the same keys, lists joined with `|`:
 * `storage:status=503,rate=0.1,from=10s,until=40s`, `rpc:latency=200ms,jitter=50ms,rpc_method=eth_sendRawTransaction`,
 * `personal_server:rate_limit=2s,path=/operations`, `api:reset=after_upstream,path=/api/relay`, `storage:truncate=0.5`,
 * `rpc:chain_pause,from=20s,until=25s`, `api:relayer_drain=0,until=30s`.
 */
import { readFileSync } from 'node:fs';
import { duration, integer, oneOf } from '../config/parsers.ts';
import { ConfigError } from '../errors.ts';
import { parseThreshold, type Threshold } from '../metrics/thresholds.ts';
import { BOUNDARIES, FAULT_KINDS, FAULT_MOMENTS, PROCESS_FAULT_BOUNDARY, PROCESS_FAULT_KINDS, type Boundary, type FaultKind, type FaultSpec, type ProcessFaultKind } from './faultSpec.ts';
import { compileFaults } from './planFaults.ts';
import { checkProcessFaultOverlaps, readProcessFault, type ScenarioProcessFault } from './readProcessFault.ts';
import { Reader, show } from './scenarioReader.ts';

/** A fault of a scenario: its boundary and name are always set. */
export type ScenarioFault = Readonly<FaultSpec & { name: string; boundary: Boundary }>;
export type { ScenarioProcessFault } from './readProcessFault.ts';

/**
 * A pass/fail expectation, in the shape of a threshold. Its metric is one `parseThreshold` knows
 * (`success_rate`, `e2e.p95`, …) or a survival metric of {@link SURVIVAL_METRICS}.
 */
export type Expectation = Threshold;

/**
 * Metrics only a fault scenario measures, with their units: `recovery` (time from the end of the
 * last fault window until flows succeed again), `unaccounted` (started flows with no outcome),
 * `injected` (faults the proxies injected; `>0` guards against a scenario that never fired).
 */
export const SURVIVAL_METRICS = { recovery: 'duration', unaccounted: 'count', injected: 'count' } as const;

export interface Scenario {
  readonly name: string;
  readonly description: string;
  /** Seed of the proxies' random sources. */
  readonly seed: number;
  /** Faults the fault proxies inject, one proxy per boundary. */
  readonly faults: readonly ScenarioFault[];
  /** Faults of the local stack's processes, injected by the harness (local target only). */
  readonly processFaults: readonly ScenarioProcessFault[];
  /** How long arrivals run, when the scenario says; see scenarioDurationMs (scenarioTime.ts) for the default. */
  readonly durationMs: number | undefined;
  readonly expect: readonly Expectation[];
  /** File path, or `flags`. */
  readonly source: string;
}

/** Keys of a scenario file, of every fault, and of each kind of fault (documented in milestones/ms-06/scenarios/README.md). */
export const SCENARIO_KEYS = ['name', 'description', 'boundary', 'seed', 'duration', 'faults', 'expect'] as const;
export const FAULT_COMMON_KEYS = ['kind', 'name', 'boundary', 'rate', 'from', 'until', 'method', 'path', 'path_regex', 'rpc_method'] as const;
export const FAULT_KIND_KEYS: Readonly<Record<FaultKind, readonly string[]>> = {
  latency: ['ms', 'jitter', 'p50', 'p95'],
  status: ['status', 'body'],
  rate_limit: ['retry_after', 'body'],
  reset: ['when'],
  blackhole: ['when'],
  truncate: ['keep_bytes', 'keep_fraction'],
};
/** In the flag form, the value after `<kind>=` sets this key. */
const MAIN_KEY: Record<FaultKind | ProcessFaultKind, string | undefined> = {
  latency: 'ms',
  status: 'status',
  rate_limit: 'retry_after',
  reset: 'when',
  blackhole: 'when',
  truncate: 'keep_fraction',
  personal_server_restart: undefined,
  relayer_drain: 'relayer',
  chain_pause: undefined,
};
const ALL_KINDS = [...FAULT_KINDS, ...PROCESS_FAULT_KINDS] as const;
const isProcessKind = (kind: string): kind is ProcessFaultKind => (PROCESS_FAULT_KINDS as readonly string[]).includes(kind);

const DAY_MS = 86_400_000;
const WINDOW = duration(0, 30 * DAY_MS);
const RUN = duration(1_000, 30 * DAY_MS);
const DELAY = duration(0, 10 * 60_000);
const RETRY_AFTER = duration(0, DAY_MS);
const STATUS = integer(400, 599, 'status');
const SEED = integer(0, 2 ** 32 - 1, 'seed');
const KEEP_BYTES = integer(0, 2 ** 31, 'bytes');
const NAME = /^[A-Za-z0-9][\w.:#-]{0,99}$/;


function readFault(reader: Reader, raw: Record<string, unknown>, field: string, index: number, defaultBoundary: Boundary | undefined): ScenarioFault | ScenarioProcessFault {
  const at = (key: string): string => (field === '' ? key : `${field}.${key}`);
  const kind = reader.parse(raw.kind, oneOf(ALL_KINDS), at('kind'));
  const nameOf = (boundary: Boundary): string =>
    raw.name === undefined ? `${boundary}:${kind}#${index}` : reader.text(raw.name, at('name'), NAME, 'a name of letters, digits and . _ : # - (at most 100)');
  if (isProcessKind(kind)) return readProcessFault(reader, raw, { field, kind, name: nameOf(PROCESS_FAULT_BOUNDARY[kind]) });
  reader.object(raw, field, [...FAULT_COMMON_KEYS, ...FAULT_KIND_KEYS[kind]]);
  const boundary =
    raw.boundary !== undefined
      ? reader.parse(raw.boundary, oneOf(BOUNDARIES), at('boundary'))
      : (defaultBoundary ?? reader.fail(at('boundary'), `one of ${BOUNDARIES.join(', ')} (here or at the scenario's top level)`, undefined));
  const name = nameOf(boundary);

  const common: Record<string, unknown> = { kind, name, boundary };
  if (raw.rate !== undefined) common.rate = reader.rate(raw.rate, at('rate'));
  if (raw.from !== undefined) common.fromMs = reader.parse(raw.from, WINDOW, at('from'));
  if (raw.until !== undefined) {
    const untilMs = reader.parse(raw.until, WINDOW, at('until'));
    if (untilMs <= ((common.fromMs as number | undefined) ?? 0)) reader.fail(at('until'), `a duration after from (${show(raw.from ?? 0)})`, raw.until);
    common.untilMs = untilMs;
  }
  if (raw.method !== undefined) common.method = reader.list(raw.method, at('method'), /^[A-Za-z]+$/, 'HTTP methods such as GET, PUT');
  if (raw.path !== undefined && raw.path_regex !== undefined) reader.fail(at('path_regex'), 'absent when path is set (one or the other)', raw.path_regex);
  if (raw.path !== undefined) common.path = reader.text(raw.path, at('path'), /^\//, "a path glob starting with '/' (* within a segment, ** across)");
  if (raw.path_regex !== undefined) {
    const source = reader.text(raw.path_regex, at('path_regex'));
    try {
      common.path = new RegExp(source);
    } catch {
      reader.fail(at('path_regex'), 'a valid JavaScript regular expression', source);
    }
  }
  if (raw.rpc_method !== undefined) common.rpcMethod = reader.list(raw.rpc_method, at('rpc_method'), /^[\w*?]+$/, 'JSON-RPC method names or globs such as eth_get*');

  const specific = ((): Record<string, unknown> => {
    switch (kind) {
      case 'latency': {
        const fixed = raw.ms !== undefined || raw.jitter !== undefined;
        const lognormal = raw.p50 !== undefined || raw.p95 !== undefined;
        if (fixed === lognormal) return reader.fail(at('ms'), 'set for a fixed delay (with jitter), or p50 and p95 for a lognormal one (not both)', raw.ms);
        if (fixed) {
          const ms = reader.parse(raw.ms ?? 0, DELAY, at('ms'));
          const jitterMs = raw.jitter === undefined ? 0 : reader.parse(raw.jitter, DELAY, at('jitter'));
          return { delay: Object.freeze({ ms, jitterMs }) };
        }
        const p50Ms = reader.parse(raw.p50, DELAY, at('p50'));
        const p95Ms = reader.parse(raw.p95, DELAY, at('p95'));
        if (p95Ms < p50Ms) reader.fail(at('p95'), `at least p50 (${show(raw.p50)})`, raw.p95);
        if (p50Ms === 0 && p95Ms !== 0) reader.fail(at('p50'), 'above 0 when p95 is (a lognormal has no zero median)', raw.p50);
        return { delay: Object.freeze({ p50Ms, p95Ms }) };
      }
      case 'status':
        if (raw.status === undefined) return reader.fail(at('status'), STATUS.expected, undefined);
        return { status: reader.parse(raw.status, STATUS, at('status')), ...(raw.body === undefined ? {} : { body: reader.text(raw.body, at('body')) }) };
      case 'rate_limit':
        return {
          retryAfterMs: raw.retry_after === undefined ? 1_000 : reader.parse(raw.retry_after, RETRY_AFTER, at('retry_after')),
          ...(raw.body === undefined ? {} : { body: reader.text(raw.body, at('body')) }),
        };
      case 'reset':
      case 'blackhole':
        return raw.when === undefined ? {} : { when: reader.parse(raw.when, oneOf(FAULT_MOMENTS), at('when')) };
      case 'truncate':
        if (raw.keep_bytes !== undefined && raw.keep_fraction !== undefined) return reader.fail(at('keep_fraction'), 'absent when keep_bytes is set', raw.keep_fraction);
        if (raw.keep_bytes !== undefined) return { keepBytes: reader.parse(raw.keep_bytes, KEEP_BYTES, at('keep_bytes')) };
        if (raw.keep_fraction === undefined) return {};
        {
          const keepFraction = reader.rate(raw.keep_fraction, at('keep_fraction'));
          return keepFraction < 1 ? { keepFraction } : reader.fail(at('keep_fraction'), 'a fraction in [0, 1)', raw.keep_fraction);
        }
    }
  })();
  return Object.freeze({ ...common, ...specific }) as unknown as ScenarioFault;
}

/**
 * Parses one expectation, `metric` with a condition such as `'>=0.95'`, `'<10s'`, or a number
 * (meaning `==`). Throws a `ConfigError` naming the field.
 *
 * @example
 * parseExpectation('recovery', '<10s', 'scenario.json'); // { metric: 'recovery', op: '<', value: 10_000, … }
 */
export function parseExpectation(metric: string, condition: unknown, source: string): Expectation {
  const reader = new Reader(source);
  const field = `expect.${metric}`;
  const text = typeof condition === 'number' ? `==${condition}` : typeof condition === 'string' ? condition.trim() : undefined;
  if (text === undefined) return reader.fail(field, "a condition such as '>=0.95' or '<10s', or a number (==)", condition);
  const kind = Object.hasOwn(SURVIVAL_METRICS, metric) ? SURVIVAL_METRICS[metric as keyof typeof SURVIVAL_METRICS] : undefined;
  if (kind === undefined) {
    try {
      return Object.freeze(parseThreshold(`${metric}${text}`, source));
    } catch (err) {
      if (!(err instanceof ConfigError)) throw err;
      return reader.fail(field, `a threshold condition (${err.shortMessage}; survival metrics: ${Object.keys(SURVIVAL_METRICS).join(', ')})`, condition);
    }
  }
  const match = /^(<=|>=|==|<|>)\s*(\S+)$/.exec(text);
  const expected = kind === 'duration' ? "an operator and a duration, e.g. '<10s'" : "an operator and a count, e.g. '==0' (or the number 0)";
  if (!match) return reader.fail(field, expected, condition);
  const [, op, rawValue] = match as unknown as [string, Threshold['op'], string];
  let value: number | undefined;
  if (kind === 'count') value = /^\d+$/.test(rawValue) ? Number(rawValue) : undefined;
  else {
    const parsed = /^\d+$/.test(rawValue) ? { ok: true as const, value: Number(rawValue) } : WINDOW.parse(rawValue);
    value = parsed.ok ? parsed.value : undefined;
  }
  if (value === undefined) return reader.fail(field, expected, condition);
  return Object.freeze({ expression: `${metric}${op}${rawValue}`, metric, op, value, source });
}

function readExpectations(reader: Reader, raw: unknown): readonly Expectation[] {
  if (raw === undefined) return Object.freeze([]);
  const object = reader.record(raw, 'expect');
  return Object.freeze(Object.entries(object).map(([metric, condition]) => parseExpectation(metric, condition, reader.source)));
}

/**
 * Validates a parsed JSON scenario. Throws a `ConfigError` (exit 2) whose message names `source`,
 * the field (`faults[0].rate`) and what it accepts.
 *
 * @example
 * const scenario = parseScenario(JSON.parse(text), 'milestones/ms-06/scenarios/storage-5xx-10pct.json');
 */
export function parseScenario(value: unknown, source: string): Scenario {
  const reader = new Reader(source);
  const raw = reader.object(value, '', SCENARIO_KEYS);
  const name = reader.text(raw.name, 'name', NAME, 'a name of letters, digits and . _ : # - (at most 100)');
  const description = raw.description === undefined ? '' : reader.text(raw.description, 'description');
  const boundary = raw.boundary === undefined ? undefined : reader.parse(raw.boundary, oneOf(BOUNDARIES), 'boundary');
  const seed = raw.seed === undefined ? 1 : reader.parse(raw.seed, SEED, 'seed');
  const durationMs = raw.duration === undefined ? undefined : reader.parse(raw.duration, RUN, 'duration');
  if (!Array.isArray(raw.faults) || raw.faults.length === 0) return reader.fail('faults', 'a non-empty array of faults', raw.faults);
  const faults = raw.faults.map((fault: unknown, index) => {
    const field = `faults[${index}]`;
    return readFault(reader, reader.record(fault, field), field, index, boundary);
  });
  return finish({ name, description, seed, durationMs, faults, expect: readExpectations(reader, raw.expect), source });
}

const isProcessFault = (fault: ScenarioFault | ScenarioProcessFault): fault is ScenarioProcessFault => isProcessKind(fault.kind);

function finish(scenario: Omit<Scenario, 'faults' | 'processFaults'> & { faults: Array<ScenarioFault | ScenarioProcessFault> }): Scenario {
  const reader = new Reader(scenario.source);
  const names = new Set<string>();
  for (const [index, fault] of scenario.faults.entries()) {
    if (names.has(fault.name)) reader.fail(`faults[${index}].name`, 'unique within the scenario', fault.name);
    names.add(fault.name);
  }
  const proxyFaults = scenario.faults.filter((fault): fault is ScenarioFault => !isProcessFault(fault));
  const processFaults = scenario.faults.filter(isProcessFault);
  compileFaults(proxyFaults); // the proxy's own checks, so a scenario that parses also starts
  checkProcessFaultOverlaps(reader, processFaults);
  return Object.freeze({ ...scenario, faults: Object.freeze(proxyFaults), processFaults: Object.freeze(processFaults) });
}

/**
 * Reads and validates a scenario file (JSON).
 *
 * @example
 * const scenario = loadScenarioFile('milestones/ms-06/scenarios/rpc-latency.json');
 */
export function loadScenarioFile(path: string): Scenario {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (cause) {
    throw new ConfigError(`Cannot read the scenario file ${path}`, { code: 'SCENARIO_UNREADABLE', cause });
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (cause) {
    throw new ConfigError(`${path}: not valid JSON (${(cause as Error).message})`, { code: 'SCENARIO_INVALID', cause });
  }
  return parseScenario(value, path);
}

/**
 * Parses one `--fault` flag, `<boundary>:<kind>[=<value>][,<key>=<value>…]`, into a fault named
 * `<boundary>:<kind>#<index>` unless it sets `name`.
 *
 * @example
 * parseFaultFlag('storage:status=503,rate=0.1,from=10s,until=40s');
 */
export function parseFaultFlag(flag: string, index = 0): ScenarioFault | ScenarioProcessFault {
  const reader = new Reader(`--fault '${flag}'`);
  const colon = flag.indexOf(':');
  if (colon === -1) return reader.fail('the flag', `<boundary>:<kind>[=<value>][,<key>=<value>…] with boundary one of ${BOUNDARIES.join(', ')}`, flag);
  const boundary = reader.parse(flag.slice(0, colon).trim(), oneOf(BOUNDARIES), 'boundary');
  const [head = '', ...rest] = flag.slice(colon + 1).split(',');
  const eq = head.indexOf('=');
  const kind = reader.parse((eq === -1 ? head : head.slice(0, eq)).trim(), oneOf(ALL_KINDS), 'kind');
  const raw: Record<string, unknown> = { kind, boundary };
  const mainKey = MAIN_KEY[kind];
  if (eq !== -1 && mainKey === undefined) reader.fail(kind, 'given without a value (its options follow as <key>=<value>)', head);
  if (eq !== -1) raw[mainKey!] = head.slice(eq + 1).trim();
  for (const item of rest) {
    const at = item.indexOf('=');
    const key = (at === -1 ? item : item.slice(0, at)).trim();
    if (at === -1 || key === '') reader.fail(key === '' ? 'an option' : key, 'written <key>=<value>', item);
    if (key === 'kind' || key === 'boundary') reader.fail(key, 'given before the first comma (<boundary>:<kind>)', item);
    if (Object.hasOwn(raw, key)) reader.fail(key, 'given once', item);
    raw[key] = item.slice(at + 1).trim();
  }
  return readFault(reader, raw, '', index, boundary);
}

/**
 * A scenario from `--fault` flags (and `--expect metric<op>value` flags).
 *
 * @example
 * scenarioFromFlags({ faults: ['storage:status=503,rate=0.1'], expect: ['success_rate>=0.95'] });
 */
export function scenarioFromFlags({
  faults,
  expect = [],
  name = 'flags',
  seed = 1,
  duration,
}: {
  faults: readonly string[];
  expect?: readonly string[];
  name?: string;
  seed?: number;
  /** How long arrivals run, as text (`60s`); default see scenarioDurationMs (scenarioTime.ts). */
  duration?: string;
}): Scenario {
  const reader = new Reader('flags');
  if (faults.length === 0) reader.fail('--fault', 'given at least once', faults);
  const expectations = expect.map((expression) => parseExpectationFlag(expression, '--expect'));
  return finish({
    name,
    description: '',
    seed: reader.parse(seed, SEED, 'seed'),
    durationMs: duration === undefined ? undefined : reader.parse(duration, RUN, '--duration'),
    faults: faults.map((flag, index) => parseFaultFlag(flag, index)),
    expect: Object.freeze(expectations),
    source: 'flags',
  });
}

/** The faults of `scenario` at `boundary`, in order (those one proxy injects). */
export function faultsFor(scenario: Pick<Scenario, 'faults'>, boundary: Boundary): readonly ScenarioFault[] {
  return scenario.faults.filter((fault) => fault.boundary === boundary);
}

/**
 * Parses a `<metric><op><value>` flag (`--expect`, or MS-06's `--threshold`) into an expectation:
 * a survival metric or any threshold metric.
 *
 * @example
 * parseExpectationFlag('recovery<10s', '--threshold'); // { metric: 'recovery', op: '<', value: 10_000, … }
 */
export function parseExpectationFlag(expression: string, flag: string): Expectation {
  const match = /^\s*([^<>=!\s]+)\s*([<>=!].*)$/.exec(expression);
  if (!match) return new Reader('flags').fail(flag, "<metric><op><value>, e.g. 'recovery<10s'", expression);
  return parseExpectation(match[1]!, match[2]!, `${flag} '${expression}'`);
}
