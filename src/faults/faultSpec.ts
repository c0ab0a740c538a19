/**
 * What a fault is, as typed data: the values `startFaultProxy` injects and `scenario.ts` parses
 * out of a scenario file or a `--fault` flag. Times are milliseconds; windows are relative to the
 * start of the proxy that injects the fault.
 */

/** The boundaries a flow crosses, each one an endpoint the harness can put a proxy in front of. */
export const BOUNDARIES = ['rpc', 'storage', 'api', 'personal_server'] as const;
export type Boundary = (typeof BOUNDARIES)[number];

/**
 * `latency` delays a request before it is forwarded and composes with the others; each of the
 * other kinds decides the request's fate (a "terminal" fault), see `planFaults`.
 */
export const FAULT_KINDS = ['latency', 'status', 'rate_limit', 'reset', 'blackhole', 'truncate'] as const;
export type FaultKind = (typeof FAULT_KINDS)[number];

/**
 * When a `reset` or a `blackhole` strikes: `before_upstream` (the upstream never sees the request)
 * or `after_upstream` (the upstream handled it, e.g. relayed the transaction, and its answer is lost).
 */
export const FAULT_MOMENTS = ['before_upstream', 'after_upstream'] as const;
export type FaultMoment = (typeof FAULT_MOMENTS)[number];

/** A delay: fixed plus uniform jitter in `[0, jitterMs]`, or lognormal fitted to a median and a p95. */
export type LatencyDelay = { ms: number; jitterMs?: number } | { p50Ms: number; p95Ms: number };

/** Which requests a fault applies to, and when and how often. Every field is optional. */
export interface FaultCommon {
  /** Shown in stats and logs. Default `<kind>#<index>` (`scenario.ts` gives `<boundary>:<kind>#<index>`). */
  name?: string;
  /** The boundary the fault belongs to; informative for the proxy, used by scenarios. */
  boundary?: Boundary;
  /** Probability in `[0, 1]` that a matching request is hit. Default 1. */
  rate?: number;
  /** Start of the window, ms after the proxy started (inclusive). Default 0. */
  fromMs?: number;
  /** End of the window, ms after the proxy started (exclusive). Default: never ends. */
  untilMs?: number;
  /** HTTP methods (any case). Default: any. */
  method?: string | readonly string[];
  /** Path without the query: a glob (`*` within a segment, `**` across segments) or a RegExp. */
  path?: string | RegExp;
  /**
   * JSON-RPC method names (globs, `eth_get*`). The request body is read first; a batch matches
   * when any call in it matches; a body that is not JSON-RPC never matches.
   */
  rpcMethod?: string | readonly string[];
}

export type LatencyFault = FaultCommon & { kind: 'latency'; delay: LatencyDelay };
/** Answers `status` (4xx/5xx) with `body` (default: a line naming the fault) without forwarding. */
export type StatusFault = FaultCommon & { kind: 'status'; status: number; body?: string };
/** Answers 429 with `Retry-After` (whole seconds, rounded up from `retryAfterMs`) without forwarding. */
export type RateLimitFault = FaultCommon & { kind: 'rate_limit'; retryAfterMs: number; body?: string };
/** Destroys the client's connection with a TCP RST: the client sees ECONNRESET. */
export type ResetFault = FaultCommon & { kind: 'reset'; when?: FaultMoment };
/** Never answers; the connection stays open until the client gives up or the proxy stops. */
export type BlackholeFault = FaultCommon & { kind: 'blackhole'; when?: FaultMoment };
/**
 * Forwards, then sends the upstream's status, headers and the first part of its body, and closes
 * the connection. `keepBytes` wins over `keepFraction` (default 0.5); at least one byte is always cut.
 */
export type TruncateFault = FaultCommon & { kind: 'truncate'; keepBytes?: number; keepFraction?: number };

export type FaultSpec = LatencyFault | StatusFault | RateLimitFault | ResetFault | BlackholeFault | TruncateFault;

/**
 * Faults of the local stack's processes rather than of a request: the harness injects them itself
 * (over the stack process's IPC channel and anvil's JSON-RPC), so they need a stack this run
 * started. Each lasts a window, `[fromMs, untilMs)` after the load started, and is undone at its end.
 */
export const PROCESS_FAULT_KINDS = ['personal_server_restart', 'relayer_drain', 'chain_pause'] as const;
export type ProcessFaultKind = (typeof PROCESS_FAULT_KINDS)[number];

/** The boundary each process fault breaks: where its effect shows in the flow. */
export const PROCESS_FAULT_BOUNDARY: Readonly<Record<ProcessFaultKind, Boundary>> = {
  personal_server_restart: 'personal_server',
  relayer_drain: 'api',
  chain_pause: 'rpc',
};

interface ProcessFaultCommon {
  name: string;
  boundary: Boundary;
  fromMs: number;
  untilMs: number;
}

/** The personal server is stopped at `fromMs` (operations in memory are lost) and started again, on the same port, at `untilMs`. */
export type PersonalServerRestartFault = ProcessFaultCommon & { kind: 'personal_server_restart' };
/** The balance of relayer key `relayer` (index in the relay's keys) is set to `balanceWei` at `fromMs` and restored at `untilMs` (anvil_setBalance). */
export type RelayerDrainFault = ProcessFaultCommon & { kind: 'relayer_drain'; relayer: number; balanceWei: bigint };
/** Anvil stops mining at `fromMs` (transactions wait in its pool) and mines again, as before, from `untilMs`. */
export type ChainPauseFault = ProcessFaultCommon & { kind: 'chain_pause' };

export type ProcessFaultSpec = PersonalServerRestartFault | RelayerDrainFault | ChainPauseFault;
