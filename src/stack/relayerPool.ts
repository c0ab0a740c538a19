/**
 * The relayer pool behind `/api/relay`: N relayer EOAs that pay gas for users' signed calls.
 *
 * Throughput comes from pipelining: each relayer keeps a LOCAL nonce counter, so a submission is
 * encode → sign locally → `eth_sendRawTransaction`, and the next one never waits for a receipt.
 * The price of local counters is that they can drift from the chain; the pool repairs that itself:
 * - a nonce rejection ("nonce too low", "already known", "replacement transaction underpriced")
 *   resyncs that relayer's counter from the chain and retries, so the client never sees it;
 * - a watcher finds a relayer whose chain nonce is stuck below its oldest in-flight tx (the tx was
 *   dropped from the mempool, or a nonce was skipped) and re-sends the tx or fills the hole.
 * A revert found by the gas estimate is the client's error (its nonce, its signature): no retry.
 */
import { Agent as HttpAgent, request as httpRequest } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';
import {
  BaseError,
  createPublicClient,
  decodeErrorResult,
  formatEther,
  keccak256,
  parseEther,
  type Abi,
  type Address,
  type Hex,
  type LocalAccount,
} from 'viem';
import type { Logger } from 'pino';
import { ConfigError, ERROR_CLASSES, InfrastructureError, VanaLoadError, type ErrorClass } from '../errors.ts';
import { silentLogger } from '../logger.ts';
import { retryStateRace, rpcHttp } from '../chain/stateRaceRetry.ts';

/**
 * How the pool picks a gas limit.
 *
 * The cost of one call varies with chain state, not only with its shape: on the local contracts an
 * `addServerFilesAndPermissions` with one file costs 1,234,385 gas for a first-time user (it
 * registers the user's server) and 852,073 for a repeat user (it only re-trusts it), with the same
 * 1,892 calldata bytes. A cached estimate therefore carries 60% headroom; a per-tx one can be
 * tight and doubles as the revert check, but anvil spends ~3× the CPU of the send itself on it
 * (binary search): on this machine 100 tx/s with `'estimate'` against 281 tx/s with `'cached'`.
 */
export type GasLimitMode =
  /** Estimate once per call shape (selector + 64-byte calldata bucket), reuse it with headroom (default). A revert of a later tx of the shape lands on chain. */
  | 'cached'
  /** `eth_estimateGas` for every submission: one more RPC and ~3× the node CPU per tx; every revert is refused before sending. */
  | 'estimate';

export interface RelayerPoolGasOptions {
  /** Default `'cached'` (see `GasLimitMode`). */
  mode?: GasLimitMode;
  /** Gas limit = estimate × headroomPercent / 100. Default 160 in `'cached'` mode, 120 in `'estimate'`. */
  headroomPercent?: number;
  /** Upper bound on any gas limit. Default 5_000_000. */
  maxGasLimit?: bigint;
  /** How often the cached fee estimate is refreshed, ms. Default 2_000. */
  feeRefreshMs?: number;
  /** In `'cached'` mode, how long a shape's estimate is reused, ms. Default 60_000. */
  shapeTtlMs?: number;
  /** Fee bump of a replacement, percent (nodes require ≥ 10). Default 25. */
  replacementBumpPercent?: number;
}

export interface RelayerPoolRepairOptions {
  /** How often the watcher looks at relayers with txs in flight, ms. Default 1_000. */
  checkIntervalMs?: number;
  /** A relayer whose chain nonce made no progress for this long while it has txs in flight is repaired, ms. Default 15_000. */
  stuckAfterMs?: number;
}

export interface CreateRelayerPoolParameters {
  rpcUrl: string;
  chainId: number;
  /** Funded relayer accounts; each gets its own nonce counter. */
  accounts: readonly LocalAccount[];
  logger?: Logger;
  gas?: RelayerPoolGasOptions;
  repair?: RelayerPoolRepairOptions;
  /** Attempts per submission across resyncs and transient RPC failures. Default 5. */
  maxAttempts?: number;
  /** Timeout of one JSON-RPC request, ms. Default 10_000. */
  rpcTimeoutMs?: number;
}

/** One contract call to relay. */
export interface RelayerCall {
  to: Address;
  data: Hex;
  /** ABI used to decode a revert into its custom error name. */
  abi?: Abi;
  /** Cache key for the gas estimate in `'cached'` mode; default: selector + calldata size bucket. */
  shape?: string;
}

/** What the pool did with a call: the tx hash the client waits on, and who sent it. */
export interface RelayerSubmission {
  hash: Hex;
  relayer: Address;
  nonce: number;
  gas: bigint;
}

export interface RelayerStats {
  address: Address;
  nextNonce: number;
  /** Sent and not yet seen mined, plus sends in progress. */
  pending: number;
  submitted: number;
}

export interface RelayerPoolStats {
  submitted: number;
  /** Counter resyncs from the chain after a nonce rejection. */
  resyncs: number;
  /** Same-nonce replacements with bumped fees. */
  replacements: number;
  /** Dropped txs re-sent by the watcher. */
  gapRepairs: number;
  /** Nonce holes filled with a self-transfer. */
  gapFills: number;
  /** Submission attempts repeated (resync, transient RPC error, fee refresh). */
  retries: number;
  gasEstimates: number;
  /** Errors surfaced to callers, by class. */
  errorsByClass: Record<ErrorClass, number>;
  relayers: RelayerStats[];
}

export interface RelayerPool {
  readonly size: number;
  readonly addresses: readonly Address[];
  /**
   * Relays one call. Resolves once a node accepted the tx (never waits for a receipt). Rejects
   * with a `RelayerRevertError` (class `revert`, `revertName` set) when the gas estimate reverts,
   * or a `VanaLoadError` of class `network`/`timeout`/`nonce`/`underpriced`/`other` for failures
   * the pool could not fix.
   */
  submit(call: RelayerCall): Promise<RelayerSubmission>;
  /** Txs sent and not yet seen mined, plus sends in progress, over all relayers. */
  pending(): number;
  stats(): RelayerPoolStats;
  /** Runs one watcher pass now (the timer runs them anyway). */
  checkNow(): Promise<void>;
  /** Stops the timers and waits for a running watcher pass; sends in progress finish on their own. */
  stop(): Promise<void>;
}

/** A revert found while estimating or sending: the request is wrong, retrying cannot help. */
export class RelayerRevertError extends VanaLoadError {
  override name = 'RelayerRevertError';
  /** Decoded custom error, e.g. `InvalidNonce`; `undefined` when the revert data did not decode. */
  readonly revertName: string | undefined;
  readonly revertArgs: readonly unknown[];
  constructor(revertName: string | undefined, revertArgs: readonly unknown[], cause: unknown) {
    const args = revertArgs.map((a) => (typeof a === 'bigint' ? a.toString() : String(a))).join(', ');
    super(`Execution reverted: ${revertName === undefined ? 'unknown reason' : `${revertName}(${args})`}`, {
      code: 'RELAYER_REVERT',
      errorClass: 'revert',
      step: 'relay',
      cause,
    });
    this.revertName = revertName;
    this.revertArgs = revertArgs;
  }
}

/** How a node refused (or failed to take) a raw transaction. */
export type SendErrorKind =
  | 'nonce_too_low'
  | 'nonce_too_high'
  | 'already_known'
  | 'replacement_underpriced'
  | 'fee_too_low'
  | 'insufficient_funds'
  | 'revert'
  | 'timeout'
  | 'network'
  | 'other';

// Order matters: "replacement transaction underpriced" also contains "transaction underpriced".
const SEND_ERROR_PATTERNS: ReadonlyArray<[SendErrorKind, RegExp]> = [
  ['already_known', /already known|already imported|alreadyknown|known transaction|same hash was already/],
  ['replacement_underpriced', /replacement transaction underpriced|replacement underpriced|replacementnotallowed|another transaction with (the )?same nonce/],
  ['nonce_too_low', /nonce too low|nonce is too low|oldnonce|lower than the current nonce|nonce has already been used|nonce.*already (been )?used/],
  ['nonce_too_high', /nonce too high|nonce is too high|nonce gap|higher than the next one expected|noncegap/],
  ['insufficient_funds', /insufficient funds|insufficient balance/],
  ['fee_too_low', /transaction underpriced|less than (the )?block base fee|lower than the block base fee|fee cap.*too low|feetoolow|gas price too low|fee too low|max fee per gas less than/],
  ['revert', /execution reverted|reverted|revert/],
  ['timeout', /timed out|took too long|timeout/],
  ['network', /fetch failed|econnrefused|econnreset|socket hang up|other side closed|network|http request failed/],
];

function errorText(error: unknown): string {
  const parts: string[] = [];
  let current: unknown = error;
  for (let depth = 0; depth < 16 && current !== undefined && current !== null; depth++) {
    if (current instanceof Error) {
      parts.push(current.message);
      if (current instanceof BaseError && current.details) parts.push(current.details);
      current = current.cause;
    } else {
      parts.push(typeof current === 'string' ? current : JSON.stringify(current) ?? '');
      break;
    }
  }
  return parts.join('\n').toLowerCase();
}

/**
 * Classifies a node's refusal of `eth_sendRawTransaction` from its message (geth, anvil,
 * Nethermind, Erigon and OpenEthereum phrasings), walking the cause chain.
 *
 * @example
 * classifySendError(new Error('nonce too low: next nonce 5, tx nonce 3')); // 'nonce_too_low'
 */
export function classifySendError(error: unknown): SendErrorKind {
  const text = errorText(error);
  for (const [kind, pattern] of SEND_ERROR_PATTERNS) if (pattern.test(text)) return kind;
  return 'other';
}

const KIND_CLASS: Record<SendErrorKind, ErrorClass> = {
  nonce_too_low: 'nonce',
  nonce_too_high: 'nonce',
  already_known: 'nonce',
  replacement_underpriced: 'nonce',
  fee_too_low: 'underpriced',
  insufficient_funds: 'other',
  revert: 'revert',
  timeout: 'timeout',
  network: 'network',
  other: 'other',
};

/** Finds revert data (`0x…`) anywhere in an RPC error's cause chain. */
function revertDataOf(error: unknown): Hex | undefined {
  let current: unknown = error;
  for (let depth = 0; depth < 16 && current instanceof Error; depth++) {
    const data: unknown = (current as { data?: unknown }).data;
    if (typeof data === 'string' && /^0x[0-9a-fA-F]*$/.test(data)) return data as Hex;
    if (typeof data === 'object' && data !== null) {
      const nested: unknown = (data as { data?: unknown }).data;
      if (typeof nested === 'string' && /^0x[0-9a-fA-F]*$/.test(nested)) return nested as Hex;
    }
    current = current.cause;
  }
  return undefined;
}

function toRevertError(error: unknown, abi: Abi | undefined): RelayerRevertError {
  const data = revertDataOf(error);
  if (data !== undefined && data.length >= 10) {
    if (abi) {
      try {
        const decoded = decodeErrorResult({ abi, data });
        return new RelayerRevertError(decoded.errorName, decoded.args ?? [], error);
      } catch {
        // Not in the ABI: fall through to the standard Error(string)/Panic decoders.
      }
    }
    try {
      const decoded = decodeErrorResult({ data });
      return new RelayerRevertError(decoded.errorName, decoded.args ?? [], error);
    } catch {
      return new RelayerRevertError(`unknown selector ${data.slice(0, 10)}`, [], error);
    }
  }
  return new RelayerRevertError(undefined, [], error);
}

/** A JSON-RPC error object from the node; `data` holds revert data for reverts. */
class JsonRpcError extends Error {
  override name = 'JsonRpcError';
  readonly code: number;
  readonly data: unknown;
  constructor(method: string, error: { code?: unknown; message?: unknown; data?: unknown }) {
    super(typeof error.message === 'string' ? error.message : `${method} failed`);
    this.code = typeof error.code === 'number' ? error.code : 0;
    this.data = error.data;
  }
}

interface JsonRpc {
  request<T>(method: string, params?: readonly unknown[]): Promise<T>;
  close(): void;
}

/**
 * JSON-RPC over node:http with a keep-alive agent. The pool's hot path is two small RPCs per tx;
 * node:http does ~2,500 of them per second on one core where fetch (and so viem's http
 * transport) does ~750 (measured against anvil on this machine).
 */
function createJsonRpc(url: string, timeoutMs: number): JsonRpc {
  const target = new URL(url);
  const https = target.protocol === 'https:';
  const agent = https ? new HttpsAgent({ keepAlive: true, maxSockets: 128 }) : new HttpAgent({ keepAlive: true, maxSockets: 128 });
  let id = 0;
  return {
    // Reads that a new block overtakes on a pruned anvil are repeated (src/chain/stateRaceRetry.ts).
    request: <T>(method: string, params: readonly unknown[] = []): Promise<T> => retryStateRace(() => send<T>(method, params)),
    close: () => agent.destroy(),
  };

  function send<T>(method: string, params: readonly unknown[]): Promise<T> {
    const body = JSON.stringify({ jsonrpc: '2.0', id: ++id, method, params });
    return new Promise<T>((resolve, reject) => {
      const req = (https ? httpsRequest : httpRequest)(
        target,
        { method: 'POST', agent, headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) } },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (chunk: Buffer) => chunks.push(chunk));
          res.on('error', (err) => reject(new Error(`network error: ${method} to ${url}: ${err.message}`, { cause: err })));
          res.on('end', () => {
            const text = Buffer.concat(chunks).toString('utf8');
            let json: { result?: unknown; error?: { code?: unknown; message?: unknown; data?: unknown } };
            try {
              json = JSON.parse(text) as typeof json;
            } catch {
              reject(new Error(`network error: ${method} to ${url}: HTTP ${res.statusCode ?? 0} with a non-JSON body`));
              return;
            }
            if (json.error) reject(new JsonRpcError(method, json.error));
            else if ((res.statusCode ?? 500) >= 400) reject(new Error(`network error: ${method} to ${url}: HTTP ${res.statusCode ?? 0}`));
            else resolve(json.result as T);
          });
        },
      );
      req.setTimeout(timeoutMs, () => req.destroy(new Error(`${method} to ${url} timed out after ${timeoutMs} ms`)));
      req.on('error', (err) =>
        reject(/timed out/.test(err.message) ? err : new Error(`network error: ${method} to ${url}: ${err.message}`, { cause: err })),
      );
      req.end(body);
    });
  }
}

interface Fees {
  maxFeePerGas: bigint;
  maxPriorityFeePerGas: bigint;
}

interface InflightTx {
  hash: Hex;
  raw: Hex;
  to: Address;
  data: Hex;
  gas: bigint;
  fees: Fees;
  sentAt: number;
  /** Filler self-transfer rather than a client's call. */
  filler: boolean;
  /** The client was told the send failed although the node may have taken it. */
  uncertain: boolean;
}

interface Relayer {
  account: LocalAccount;
  nextNonce: number;
  /** Chain nonce at `latest`, as last seen by the watcher. */
  minedNonce: number;
  /** When `minedNonce` last advanced (or the relayer was last repaired). */
  progressAt: number;
  inflight: Map<number, InflightTx>;
  sending: Set<number>;
  /** Tail of the queue that keeps first sends in nonce order. */
  sendTail: Promise<void>;
  submitted: number;
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));
const bump = (value: bigint, percent: number) => (value * BigInt(100 + percent) + 99n) / 100n;

/**
 * Creates a relayer pool over funded accounts: reads each account's pending nonce, fetches a fee
 * estimate, and starts the fee refresher and the gap-repair watcher.
 *
 * @example
 * const pool = await createRelayerPool({ rpcUrl, chainId, accounts: [relayerAccount(0), relayerAccount(1)] });
 * const { hash } = await pool.submit({ to: permissions, data, abi: dataPortabilityPermissionsAbi });
 * await pool.stop();
 */
export async function createRelayerPool({
  rpcUrl,
  chainId,
  accounts,
  logger = silentLogger(),
  gas: gasOptions = {},
  repair: repairOptions = {},
  maxAttempts = 5,
  rpcTimeoutMs = 10_000,
}: CreateRelayerPoolParameters): Promise<RelayerPool> {
  if (accounts.length === 0) throw new ConfigError('Expected at least one relayer account, got 0', { code: 'RELAYER_POOL_EMPTY' });
  const {
    mode = 'cached',
    headroomPercent = mode === 'estimate' ? 120 : 160,
    maxGasLimit = 5_000_000n,
    feeRefreshMs = 2_000,
    shapeTtlMs = 60_000,
    replacementBumpPercent = 25,
  } = gasOptions;
  const { checkIntervalMs = 1_000, stuckAfterMs = 15_000 } = repairOptions;
  const log = logger.child({ module: 'relayerPool' });
  // No transport-level retries: this module decides what a retry means for a nonce.
  const rpc = createJsonRpc(rpcUrl, rpcTimeoutMs);

  const counts = { submitted: 0, resyncs: 0, replacements: 0, gapRepairs: 0, gapFills: 0, retries: 0, gasEstimates: 0 };
  const errorsByClass = Object.fromEntries(ERROR_CLASSES.map((c) => [c, 0])) as Record<ErrorClass, number>;
  const shapes = new Map<string, { gas: bigint; at: number }>();

  const chainNonce = async (address: Address, tag: 'latest' | 'pending') => Number(await rpc.request<Hex>('eth_getTransactionCount', [address, tag]));
  const baseFeeNow = async () => BigInt((await rpc.request<{ baseFeePerGas?: Hex } | null>('eth_getBlockByNumber', ['latest', false]))?.baseFeePerGas ?? '0x0');

  let relayers: Relayer[];
  let fees: Fees;
  try {
    const now = Date.now();
    relayers = await Promise.all(
      accounts.map(async (account) => {
        const [pending, latest] = await Promise.all([chainNonce(account.address, 'pending'), chainNonce(account.address, 'latest')]);
        return { account, nextNonce: pending, minedNonce: latest, progressAt: now, inflight: new Map(), sending: new Set(), sendTail: Promise.resolve(), submitted: 0 };
      }),
    );
    fees = await fetchFees();
  } catch (cause) {
    rpc.close();
    throw new InfrastructureError(`Relayer pool could not read its accounts from ${rpcUrl}`, { code: 'RELAYER_POOL_INIT', cause });
  }

  async function fetchFees(): Promise<Fees> {
    const [baseFee, tip] = await Promise.all([baseFeeNow(), rpc.request<Hex>('eth_maxPriorityFeePerGas').catch(() => '0x0' as Hex)]);
    const maxPriorityFeePerGas = BigInt(tip);
    // 2 × base fee absorbs six full blocks of base-fee growth before a cached estimate goes stale.
    return { maxFeePerGas: baseFee * 2n + maxPriorityFeePerGas, maxPriorityFeePerGas };
  }

  let feeRefreshing: Promise<void> | undefined;
  function refreshFees(): Promise<void> {
    feeRefreshing ??= fetchFees()
      .then((next) => {
        fees = next;
      })
      .catch((err: unknown) => log.warn({ err: errorText(err) }, 'fee refresh failed; keeping the previous estimate'))
      .finally(() => {
        feeRefreshing = undefined;
      });
    return feeRefreshing;
  }

  async function estimate(call: RelayerCall, from: Address): Promise<bigint> {
    counts.gasEstimates++;
    try {
      return BigInt(await rpc.request<Hex>('eth_estimateGas', [{ from, to: call.to, data: call.data }, 'latest']));
    } catch (err) {
      if (classifySendError(err) === 'revert' || revertDataOf(err) !== undefined) throw toRevertError(err, call.abi);
      throw asPoolError(err, 'estimating gas');
    }
  }

  const estimating = new Map<string, Promise<bigint>>();
  async function gasLimitFor(call: RelayerCall, from: Address): Promise<bigint> {
    const withHeadroom = (g: bigint) => {
      const limit = (g * BigInt(headroomPercent)) / 100n;
      return limit > maxGasLimit ? maxGasLimit : limit;
    };
    if (mode === 'estimate') return withHeadroom(await estimate(call, from));
    // 64-byte buckets: two storage words of string, ~44k gas, is all one bucket can differ by.
    const shape = call.shape ?? `${call.data.slice(0, 10)}:${Math.ceil(call.data.length / 128)}`;
    const cached = shapes.get(shape);
    if (cached && Date.now() - cached.at < shapeTtlMs) return cached.gas;
    const running = estimating.get(shape);
    if (running) {
      try {
        return await running;
      } catch {
        // That call reverted; it says nothing about ours, so estimate ours.
      }
    }
    const estimated = estimate(call, from).then(withHeadroom);
    estimating.set(shape, estimated);
    try {
      const gas = await estimated;
      // Keep the larger limit: a first-time user of a shape costs more than a repeat one.
      const previous = shapes.get(shape)?.gas ?? 0n;
      const keep = previous > gas ? previous : gas;
      shapes.set(shape, { gas: keep, at: Date.now() });
      return keep;
    } finally {
      if (estimating.get(shape) === estimated) estimating.delete(shape);
    }
  }

  let cursor = 0;
  function choose(): Relayer {
    // Least sends in progress, round-robin among equals: spreads load and routes around a
    // relayer that is stuck retrying.
    let best: Relayer | undefined;
    for (let i = 0; i < relayers.length; i++) {
      const r = relayers[(cursor + i) % relayers.length]!;
      if (best === undefined || r.sending.size < best.sending.size) best = r;
    }
    cursor = (cursor + 1) % relayers.length;
    return best!;
  }

  async function sign(r: Relayer, nonce: number, to: Address, data: Hex, gas: bigint, f: Fees) {
    const raw = await r.account.signTransaction({
      type: 'eip1559',
      chainId,
      nonce,
      to,
      data,
      gas,
      value: 0n,
      maxFeePerGas: f.maxFeePerGas,
      maxPriorityFeePerGas: f.maxPriorityFeePerGas,
    });
    return { raw, hash: keccak256(raw) };
  }

  async function sendRaw(raw: Hex): Promise<void> {
    await rpc.request<Hex>('eth_sendRawTransaction', [raw]);
  }

  async function txKnown(hash: Hex): Promise<boolean> {
    try {
      return (await rpc.request<unknown>('eth_getTransactionByHash', [hash])) !== null;
    } catch {
      return false;
    }
  }

  /** Moves the counter forward to the chain's pending nonce; never backward (in-flight sends above it are ours). */
  async function resync(r: Relayer): Promise<void> {
    counts.resyncs++;
    const pending = await chainNonce(r.account.address, 'pending');
    if (pending > r.nextNonce) r.nextNonce = pending;
    log.debug({ relayer: r.account.address, pending, next: r.nextNonce }, 'nonce resync');
  }

  function asPoolError(err: unknown, doing: string): VanaLoadError {
    if (err instanceof VanaLoadError) return err;
    const kind = classifySendError(err);
    return new VanaLoadError(`Relayer failed ${doing}: ${kind.replace(/_/g, ' ')}`, {
      code: `RELAYER_${kind.toUpperCase()}`,
      errorClass: KIND_CLASS[kind],
      step: 'relay',
      metaMessages: [`rpc: ${rpcUrl}`],
      cause: err,
    });
  }

  function record(r: Relayer, nonce: number, tx: Omit<InflightTx, 'sentAt'>): void {
    r.inflight.set(nonce, { ...tx, sentAt: Date.now() });
  }

  /** A nonce that was taken from the counter but holds no accepted tx blocks every later nonce. */
  function releaseNonce(r: Relayer, nonce: number): void {
    if (r.nextNonce === nonce + 1) {
      r.nextNonce = nonce; // nobody took a later nonce: simply hand it out again
      return;
    }
    void fillHole(r, nonce);
  }

  async function fillHole(r: Relayer, nonce: number): Promise<void> {
    if (r.sending.has(nonce)) return;
    r.sending.add(nonce);
    const f = fees;
    try {
      const { raw, hash } = await sign(r, nonce, r.account.address, '0x', 21_000n, f);
      await sendRaw(raw);
      counts.gapFills++;
      record(r, nonce, { hash, raw, to: r.account.address, data: '0x', gas: 21_000n, fees: f, filler: true, uncertain: false });
      log.info({ relayer: r.account.address, nonce, hash }, 'nonce hole filled with a self-transfer');
    } catch (err) {
      const kind = classifySendError(err);
      // Something already sits at (or mined) this nonce: the hole is gone.
      if (kind === 'nonce_too_low' || kind === 'already_known' || kind === 'replacement_underpriced') return;
      log.warn({ relayer: r.account.address, nonce, err: errorText(err) }, 'could not fill nonce hole; the watcher will retry');
    } finally {
      r.sending.delete(nonce);
    }
  }

  async function submit(call: RelayerCall): Promise<RelayerSubmission> {
    try {
      return await submitOnce(call);
    } catch (err) {
      const error = asPoolError(err, 'to submit');
      errorsByClass[error.errorClass]++;
      throw error;
    }
  }

  /**
   * Runs `task` after every task queued before it on this relayer. Nonces are taken and queued in
   * the same tick, so a relayer's first sends reach the node in nonce order. A node parks an n+1
   * that arrives before n as a future tx: geth caps those per account, and anvil 1.7 left 42 of
   * 1,000 such transfers unmined for good when they were sent 64 at a time. Waiting one RPC round
   * trip per send costs little: the relayer still never waits for a receipt.
   */
  function inOrder<T>(r: Relayer, task: () => Promise<T>): Promise<T> {
    const run = r.sendTail.then(task);
    r.sendTail = run.then(
      () => undefined,
      () => undefined,
    );
    return run;
  }

  async function submitOnce(call: RelayerCall): Promise<RelayerSubmission> {
    // Estimate first (any relayer can be `from`: the contract ignores msg.sender), then choose,
    // so the choice sees the sends that started meanwhile.
    const gas = await gasLimitFor(call, relayers[0]!.account.address);
    const r = choose();
    let nonce = -1; // -1: this submission holds no nonce right now
    let signed: { raw: Hex; hash: Hex } | undefined;
    let usedFees = fees;
    let lastError: unknown;
    let lastKind: SendErrorKind = 'other';
    const drop = (release: boolean) => {
      if (nonce < 0) return;
      r.sending.delete(nonce);
      if (release) releaseNonce(r, nonce);
      nonce = -1;
    };
    const signAndSend = async (n: number) => {
      usedFees = fees;
      signed = await sign(r, n, call.to, call.data, gas, usedFees);
      await sendRaw(signed.raw);
    };

    for (let attempt = 1; attempt <= maxAttempts; attempt++) {
      if (attempt > 1) counts.retries++;
      let sending: Promise<void>;
      if (nonce < 0) {
        nonce = r.nextNonce++;
        r.sending.add(nonce);
        signed = undefined;
        const n = nonce;
        sending = inOrder(r, () => signAndSend(n));
      } else if (signed === undefined) {
        sending = signAndSend(nonce);
      } else {
        sending = sendRaw(signed.raw);
      }
      try {
        await sending;
        return accepted();
      } catch (err) {
        if (signed === undefined) {
          drop(true); // signing failed: nothing reached the node
          throw err;
        }
        lastError = err;
        lastKind = classifySendError(err);
      }
      if (lastKind === 'already_known') return accepted();
      if (lastKind === 'nonce_too_low' && (await txKnown(signed.hash))) return accepted();
      if (lastKind === 'nonce_too_low' || lastKind === 'replacement_underpriced') {
        // Someone else holds this nonce, so it is no hole: resync and take a fresh one.
        drop(false);
        await resync(r).catch((err: unknown) => {
          throw asPoolError(err, 'to resync its nonce');
        });
      } else if (lastKind === 'fee_too_low') {
        await refreshFees();
        signed = undefined;
      } else if (lastKind === 'timeout' || lastKind === 'network' || lastKind === 'nonce_too_high') {
        // The node may have taken it: resend the identical bytes (idempotent) after a pause.
        await sleep(50 * 2 ** attempt);
      } else {
        // Reverts at send, insufficient funds, anything unknown: retrying cannot help.
        drop(true);
        throw lastKind === 'revert' ? toRevertError(lastError, call.abi) : lastError;
      }
    }
    if (nonce >= 0 && signed !== undefined && (lastKind === 'timeout' || lastKind === 'network')) {
      // The node may still hold the tx: keep it as uncertain; the watcher fills the nonce with
      // a self-transfer if it never mines (the client was told it failed).
      r.sending.delete(nonce);
      record(r, nonce, { hash: signed.hash, raw: signed.raw, to: call.to, data: call.data, gas, fees: usedFees, filler: false, uncertain: true });
    } else {
      drop(true);
    }
    throw lastError;

    function accepted(): RelayerSubmission {
      const s = signed!;
      r.sending.delete(nonce);
      record(r, nonce, { hash: s.hash, raw: s.raw, to: call.to, data: call.data, gas, fees: usedFees, filler: false, uncertain: false });
      counts.submitted++;
      r.submitted++;
      return { hash: s.hash, relayer: r.account.address, nonce, gas };
    }
  }

  async function repairRelayer(r: Relayer): Promise<void> {
    const latest = await chainNonce(r.account.address, 'latest');
    const now = Date.now();
    if (latest > r.minedNonce) {
      r.minedNonce = latest;
      r.progressAt = now;
    }
    for (const n of r.inflight.keys()) if (n < latest) r.inflight.delete(n);
    if (r.inflight.size === 0) return;
    const oldest = Math.min(...r.inflight.keys());
    const oldestSentAt = r.inflight.get(oldest)!.sentAt;
    if (now - Math.max(r.progressAt, oldestSentAt) < stuckAfterMs) return;

    // Stuck: walk the nonces from the chain's up to our highest in flight, in order, so each
    // repair unblocks the next. Bounded per pass to keep a pass cheap.
    r.progressAt = now;
    const highest = Math.max(...r.inflight.keys());
    const baseFee = await baseFeeNow();
    for (let n = latest; n <= highest && n < latest + 64; n++) {
      if (r.sending.has(n)) continue;
      const tx = r.inflight.get(n);
      if (tx === undefined || (tx.uncertain && !(await txKnown(tx.hash)))) {
        await fillHole(r, n);
        continue;
      }
      if (!(await txKnown(tx.hash))) {
        // Dropped from the mempool: the identical bytes keep the hash the client is waiting on.
        try {
          await sendRaw(tx.raw);
          tx.sentAt = Date.now();
          counts.gapRepairs++;
          log.info({ relayer: r.account.address, nonce: n, hash: tx.hash }, 'dropped tx re-sent');
          continue;
        } catch (err) {
          const kind = classifySendError(err);
          if (kind === 'nonce_too_low' || kind === 'already_known') continue;
          if (kind !== 'fee_too_low' && kind !== 'replacement_underpriced') {
            log.warn({ relayer: r.account.address, nonce: n, err: errorText(err) }, 'could not re-send dropped tx');
            continue;
          }
        }
      } else if (tx.fees.maxFeePerGas >= baseFee) {
        continue; // priced to mine: the chain is just slow
      }
      await replace(r, n, tx, baseFee);
    }
  }

  /** Same nonce, fees bumped past both the old tx and the current base fee. The hash changes. */
  async function replace(r: Relayer, nonce: number, tx: InflightTx, baseFee: bigint): Promise<void> {
    await refreshFees();
    const floor = bump(tx.fees.maxPriorityFeePerGas, replacementBumpPercent);
    const maxPriorityFeePerGas = fees.maxPriorityFeePerGas > floor ? fees.maxPriorityFeePerGas : floor;
    let maxFeePerGas = bump(tx.fees.maxFeePerGas, replacementBumpPercent);
    if (maxFeePerGas < baseFee * 2n + maxPriorityFeePerGas) maxFeePerGas = baseFee * 2n + maxPriorityFeePerGas;
    const f = { maxFeePerGas, maxPriorityFeePerGas };
    const signed = await sign(r, nonce, tx.to, tx.data, tx.gas, f);
    try {
      await sendRaw(signed.raw);
      counts.replacements++;
      record(r, nonce, { ...tx, hash: signed.hash, raw: signed.raw, fees: f });
      log.warn({ relayer: r.account.address, nonce, oldHash: tx.hash, hash: signed.hash }, 'tx replaced with bumped fees; its hash changed');
    } catch (err) {
      log.warn({ relayer: r.account.address, nonce, err: errorText(err) }, 'replacement refused');
    }
  }

  let checking: Promise<void> | undefined;
  function checkNow(): Promise<void> {
    checking ??= Promise.all(
      relayers
        .filter((r) => r.inflight.size > 0)
        .map((r) => repairRelayer(r).catch((err: unknown) => log.warn({ relayer: r.account.address, err: errorText(err) }, 'watcher pass failed'))),
    )
      .then(() => undefined)
      .finally(() => {
        checking = undefined;
      });
    return checking;
  }

  const feeTimer = setInterval(() => void refreshFees(), feeRefreshMs);
  const checkTimer = setInterval(() => void checkNow(), checkIntervalMs);
  feeTimer.unref();
  checkTimer.unref();
  log.info({ relayers: relayers.map((r) => ({ address: r.account.address, nonce: r.nextNonce })), mode }, 'relayer pool ready');

  return {
    size: relayers.length,
    addresses: relayers.map((r) => r.account.address),
    submit,
    pending: () => relayers.reduce((sum, r) => sum + r.inflight.size + r.sending.size, 0),
    stats: () => ({
      ...counts,
      errorsByClass: { ...errorsByClass },
      relayers: relayers.map((r) => ({
        address: r.account.address,
        nextNonce: r.nextNonce,
        pending: r.inflight.size + r.sending.size,
        submitted: r.submitted,
      })),
    }),
    checkNow,
    async stop() {
      clearInterval(feeTimer);
      clearInterval(checkTimer);
      await Promise.all([checking, feeRefreshing]);
      rpc.close();
    },
  };
}

export interface FundRelayersParameters {
  rpcUrl: string;
  chainId: number;
  /** Local funder account (the deployer on the local stack). */
  funder: LocalAccount;
  relayers: readonly Address[];
  /** Each relayer below this balance is topped up to it. Default 100 ETH. */
  balance?: bigint;
  logger?: Logger;
}

/**
 * Tops up relayers from a funder so each holds at least `balance`, and waits until the transfers
 * are mined. Returns the hashes of the transfers it sent (none when all were funded already).
 *
 * @example
 * await fundRelayers({ rpcUrl, chainId, funder: deployerAccount(), relayers: pool.addresses });
 */
export async function fundRelayers({
  rpcUrl,
  chainId,
  funder,
  relayers,
  balance = parseEther('100'),
  logger = silentLogger(),
}: FundRelayersParameters): Promise<Hex[]> {
  const client = createPublicClient({ transport: rpcHttp(rpcUrl, { retryCount: 0 }) });
  const balances = await Promise.all(relayers.map((address) => client.getBalance({ address })));
  const needy = relayers.flatMap((address, i) => (balances[i]! < balance ? [{ address, value: balance - balances[i]! }] : []));
  if (needy.length === 0) return [];
  let nonce = Number(await client.request({ method: 'eth_getTransactionCount', params: [funder.address, 'pending'] }));
  const block = await client.getBlock();
  const maxPriorityFeePerGas = 1_000_000_000n;
  const maxFeePerGas = (block.baseFeePerGas ?? 0n) * 2n + maxPriorityFeePerGas;
  const hashes: Hex[] = [];
  for (const { address, value } of needy) {
    const raw = await funder.signTransaction({ type: 'eip1559', chainId, nonce: nonce++, to: address, value, gas: 21_000n, maxFeePerGas, maxPriorityFeePerGas });
    hashes.push(await client.request({ method: 'eth_sendRawTransaction', params: [raw] }));
  }
  await Promise.all(hashes.map((hash) => client.waitForTransactionReceipt({ hash, pollingInterval: 100 })));
  logger.child({ module: 'relayerPool' }).info({ funded: needy.map((n) => ({ address: n.address, eth: formatEther(n.value) })) }, 'relayers funded');
  return hashes;
}
