/**
 * How a node refuses a transaction, read from its words: the send-error classification of
 * `eth_sendRawTransaction` / `eth_estimateGas` answers (geth, anvil, Nethermind, Erigon and
 * OpenEthereum phrasings) and the decoding of revert data into a custom error name. Used by the
 * relayer pool to decide what a failure means for a nonce, and by the flow's error classes.
 */
import { BaseError, decodeErrorResult, type Abi, type Hex } from 'viem';
import { VanaLoadError } from '../errors.ts';
import { type ErrorClass } from '../flow.ts';

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

export function errorText(error: unknown): string {
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

export const SEND_ERROR_CLASS: Record<SendErrorKind, ErrorClass> = {
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
export function revertDataOf(error: unknown): Hex | undefined {
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

export function toRevertError(error: unknown, abi: Abi | undefined): RelayerRevertError {
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


/**
 * The error a pool caller sees for a failure the pool could not fix: a `VanaLoadError` of the
 * send error's class, step `relay`, naming what the pool was doing and the RPC it used.
 *
 * @example
 * throw toPoolError(err, 'estimating gas', rpcUrl); // "Relayer failed estimating gas: timeout"
 */
export function toPoolError(error: unknown, doing: string, rpcUrl: string): VanaLoadError {
  if (error instanceof VanaLoadError) return error;
  const kind = classifySendError(error);
  return new VanaLoadError(`Relayer failed ${doing}: ${kind.replace(/_/g, ' ')}`, {
    code: `RELAYER_${kind.toUpperCase()}`,
    errorClass: SEND_ERROR_CLASS[kind],
    step: 'relay',
    metaMessages: [`rpc: ${rpcUrl}`],
    cause: error,
  });
}
