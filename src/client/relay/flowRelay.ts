/**
 * How a flow gets its signed `ServerFilesAndPermission` on chain (ARCHITECTURE.md 10): through an
 * app's relayer (`api`), through our relayer pool with the user's own relayer keys (`keys`), or by
 * the user's wallet paying gas (`direct`). The client's `relay` step calls `submit`; its `confirm`
 * step calls `awaitOperation` for a `pending` answer, then reads the receipt.
 */
import type { Hash, LocalAccount } from 'viem';
import type { RelayedReceipt } from '../../protocol/relayerResponse.ts';
import type { SignedServerFilesAndPermissionRequest } from '../../protocol/relayerRequest.ts';

export const RELAY_MODES = ['api', 'keys', 'direct'] as const;
export type RelayMode = (typeof RELAY_MODES)[number];

/** What a relay answered for one signed request. */
export type RelayOutcome =
  /** A transaction hash to wait for. */
  | { kind: 'submitted'; hash: Hash }
  /** A stateful relayer's operation, to poll with `status_check` until it is confirmed. */
  | { kind: 'pending'; operationId: string }
  /** Already mined; with the receipt when the relayer sent one that parses. */
  | { kind: 'confirmed'; hash: Hash; receipt?: RelayedReceipt };

export interface RelayContext {
  /** The user: signs nothing here, but pays gas in `direct` mode. */
  account: LocalAccount;
  signal: AbortSignal;
}

export interface AwaitOperationContext {
  signal: AbortSignal;
  /** How long the operation may stay pending. */
  timeoutMs: number;
}

export interface FlowRelay {
  readonly mode: RelayMode;
  /**
   * Whether the flow may repeat a `submit` that failed with a transient error. Only `api`: our
   * API server answers a repeated request with the first hash, and the pool and a user's wallet
   * retry inside themselves.
   */
  readonly retryable: boolean;
  submit(request: SignedServerFilesAndPermissionRequest, ctx: RelayContext): Promise<RelayOutcome>;
  /** Polls a `pending` operation until the relayer confirms it (hash, maybe receipt) or refuses it. */
  awaitOperation(operationId: string, ctx: AwaitOperationContext): Promise<{ hash: Hash; receipt?: RelayedReceipt }>;
  /** Releases what the relay holds (the keys pool's timers and sockets). */
  close(): Promise<void>;
}
