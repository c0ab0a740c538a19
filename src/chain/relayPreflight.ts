/**
 * The relayer's last look before it pays gas: would this `addServerFilesAndPermissions` revert?
 *
 * Three parts, cheapest first:
 * 1. The signature as the contract's OZ `ECDSA.recover` reads it (`signatureProblem`): a high-s
 *    copy of a valid signature recovers the same signer and passes a duplicate check (its
 *    calldata differs), then reverts `ECDSAInvalidSignatureS`.
 * 2. The relays this server has in flight: a user's next relay while its previous one is not
 *    mined, or a file URL another user's pending relay is registering, would revert once the
 *    first lands (InvalidNonce, NotFileOwner), yet simulates fine against the latest block.
 *    A relay that passes reserves its user and file URLs until it is mined, synchronously after
 *    its simulation, so of two concurrent relays with the same nonce exactly one passes.
 * 3. One `eth_call` of the exact calldata against the latest block: every revert the contract
 *    can raise (a wrong or used nonce, an unknown grantee, a file URL owned by someone else, a
 *    schema id, ...) is found by the contract itself, on any chain and contract version, for one
 *    execution (`eth_estimateGas` runs a binary search of them).
 *
 * A refusal is a `RelayRefusedError` naming the revert it avoided (`reason`), counted in `stats()`.
 */
import { decodeErrorResult, type Abi, type Address, type Hex } from 'viem';
import { VanaLoadError } from '../errors.ts';
import { signatureProblem } from '../protocol/signature.ts';
import { dataPortabilityGranteesAbi, dataPortabilityPermissionsAbi, dataPortabilityServersAbi, dataRegistryAbi } from '../protocol/abis.ts';
import { JsonRpcError, type JsonRpc } from './jsonRpc.ts';
import { classifySendError, errorText, revertDataOf, SEND_ERROR_CLASS } from './sendErrors.ts';

/** Custom errors of every contract `addServerFilesAndPermissions` reaches, to name a simulated revert. */
export const RELAY_ERRORS_ABI: Abi = [dataPortabilityPermissionsAbi, dataRegistryAbi, dataPortabilityServersAbi, dataPortabilityGranteesAbi]
  .flatMap((abi) => abi.filter((item) => item.type === 'error'))
  .filter((item, i, all) => all.findIndex((other) => JSON.stringify(other) === JSON.stringify(item)) === i);

/** A relay the preflight refused: it would have reverted (or would once a relay in flight lands). */
export class RelayRefusedError extends VanaLoadError {
  override name = 'RelayRefusedError';
  /** The custom error the contract would revert with (`InvalidNonce`, ...), or `NonceInFlight` / `FileInFlight`. */
  readonly reason: string;
  /** HTTP status for the answer: 401 signature, 409 conflict with a relay in flight, 422 simulated revert. */
  readonly status: 401 | 409 | 422;
  constructor(reason: string, status: 401 | 409 | 422, detail: string) {
    super(`Refused before sending: ${detail}`, { code: 'RELAY_REFUSED', errorClass: 'revert', step: 'relay' });
    this.reason = reason;
    this.status = status;
  }
}

/** One call to check: the calldata and what the preflight keys its reservations on. */
export interface RelayPreflightCall {
  /** The recovered signer (the contract's `userNonce` key). */
  signer: Address;
  nonce: bigint;
  fileUrls: readonly string[];
  signature: Hex;
  /** The `addServerFilesAndPermissions` calldata that will be sent. */
  data: Hex;
}

/** Where a relay went: the relayer and its nonce (what tells that it is mined), and the hash. */
export interface RelayPreflightSubmission {
  hash: Hex;
  relayer: Address;
  nonce: number;
}

/** A passed check: tie it to the submission, which keeps its reservation until the tx is mined. */
export interface RelayPreflightPass {
  /** The submission (`RelayerPool.submit`); a rejected one releases the reservation at once. */
  track(submission: Promise<RelayPreflightSubmission>): void;
}

export interface RelayPreflightStats {
  checked: number;
  passed: number;
  /** Refusals by reason (see `RelayRefusedError.reason`). */
  refused: Record<string, number>;
  /** Users with a relay in flight. */
  inFlight: number;
  /** Latency of the simulation (`eth_call`) over the last 1,024 checks, ms. */
  simulateMs: { p50: number; p95: number; max: number };
}

export interface RelayPreflight {
  /** Resolves when the call may be sent; rejects with a `RelayRefusedError`, or a `VanaLoadError` when the node cannot answer. */
  check(call: RelayPreflightCall): Promise<RelayPreflightPass>;
  stats(): RelayPreflightStats;
}

export interface CreateRelayPreflightParameters {
  rpc: JsonRpc;
  /** The Permissions contract. */
  to: Address;
  /** msg.sender of the simulation (the contract ignores it): a relayer. */
  from: Address;
  /** Custom errors to decode reverts with: those of every contract the call reaches. */
  abi: Abi;
  /** How long a reservation outlives a tx that never shows a receipt, ms. Default 600_000. */
  reservationTtlMs?: number;
}

interface Reservation {
  signer: string;
  nonce: bigint;
  fileUrls: readonly string[];
  at: number;
  /** Unset while the submission is in progress. */
  sent?: RelayPreflightSubmission;
}

const STATUS_OF_REASON: Record<string, 401 | 409 | 422> = { ECDSAInvalidSignatureS: 401, ECDSAInvalidSignature: 401 };

/** `InvalidNonce(expected 1, got 0)`, `GranteeNotFound`, `NotFileOwner(owner 0x…, signer 0x…)`, else `Name(arg, …)`. */
function describeRevert(name: string, args: readonly unknown[]): string {
  const text = args.map((a) => String(a));
  if (name === 'InvalidNonce' && text.length === 2) return `InvalidNonce(expected ${text[0]}, got ${text[1]})`;
  if (name === 'NotFileOwner' && text.length === 2) return `NotFileOwner(owner ${text[0]}, signer ${text[1]})`;
  return text.length === 0 ? name : `${name}(${text.join(', ')})`;
}

/**
 * Creates the preflight check of `/api/relay` (see the file header).
 *
 * @example
 * const preflight = createRelayPreflight({ rpc, to: permissions, from: pool.addresses[0], abi: RELAY_ERRORS_ABI });
 * const pass = await preflight.check({ signer, nonce, fileUrls, signature, data });
 * pass.track(pool.submit({ to: permissions, data }));
 */
export function createRelayPreflight({ rpc, to, from, abi, reservationTtlMs = 600_000 }: CreateRelayPreflightParameters): RelayPreflight {
  const errorsAbi: Abi = abi.filter((item) => item.type === 'error');
  const counts = { checked: 0, passed: 0 };
  const refused: Record<string, number> = {};
  /** Lowercase signer → its relay in flight; insertion order = age. */
  const bySigner = new Map<string, Reservation>();
  const byFile = new Map<string, Reservation>();
  const simulateMs = new Float64Array(1024);
  let simulations = 0;

  function refuse(reason: string, detail: string, status = STATUS_OF_REASON[reason] ?? 422): never {
    refused[reason] = (refused[reason] ?? 0) + 1;
    throw new RelayRefusedError(reason, status, detail);
  }

  function release(reservation: Reservation): void {
    if (bySigner.get(reservation.signer) === reservation) bySigner.delete(reservation.signer);
    for (const url of reservation.fileUrls) if (byFile.get(url) === reservation) byFile.delete(url);
  }

  function prune(now: number): void {
    for (const reservation of bySigner.values()) {
      if (now - reservation.at < reservationTtlMs) break;
      release(reservation);
    }
  }

  /** The relays in flight this call would collide with. */
  function conflicts(signer: string, fileUrls: readonly string[]): Reservation[] {
    const found = new Set<Reservation>();
    const own = bySigner.get(signer);
    if (own) found.add(own);
    for (const url of fileUrls) {
      const other = byFile.get(url);
      if (other && other.signer !== signer) found.add(other);
    }
    return [...found];
  }

  function refuseConflict(reservation: Reservation, signer: string, fileUrls: readonly string[]): never {
    const tx = reservation.sent?.hash ?? 'being sent';
    if (reservation.signer === signer) {
      return refuse(
        'NonceInFlight',
        `this user's relay ${tx} (nonce ${reservation.nonce}) is not mined yet; another one now would revert with InvalidNonce, send it after that one is mined`,
        409,
      );
    }
    const url = fileUrls.find((u) => reservation.fileUrls.includes(u));
    return refuse('FileInFlight', `file URL ${url} is registered by another user's relay ${tx}, not mined yet; this one would revert with NotFileOwner`, 409);
  }

  /**
   * Once its relayer's nonce is mined, a reservation protects nothing: the chain state shows the
   * tx (landed or reverted) or what replaced it. Read from the relayer's nonce, not a receipt: a
   * node that prunes history (the local anvil keeps 500 blocks) forgets receipts.
   */
  async function mined(reservation: Reservation): Promise<boolean> {
    const sent = reservation.sent;
    if (sent === undefined) return false;
    const count = await rpc.request<Hex>('eth_getTransactionCount', [sent.relayer, 'latest']).catch(() => undefined);
    return count !== undefined && Number(count) > sent.nonce;
  }

  async function simulate(data: Hex): Promise<void> {
    const started = performance.now();
    try {
      await rpc.request<Hex>('eth_call', [{ from, to, data }, 'latest']);
    } catch (err) {
      const revertData = revertDataOf(err);
      const isRevert = revertData !== undefined || (err instanceof JsonRpcError && classifySendError(err) === 'revert');
      if (!isRevert) {
        const kind = classifySendError(err);
        throw new VanaLoadError(`Relay preflight could not simulate the call: ${errorText(err).split('\n')[0]}`, {
          code: 'RELAY_PREFLIGHT_UNAVAILABLE',
          errorClass: SEND_ERROR_CLASS[kind] === 'revert' ? 'other' : SEND_ERROR_CLASS[kind],
          step: 'relay',
          cause: err,
        });
      }
      let name = 'unknown revert';
      let args: readonly unknown[] = [];
      if (revertData !== undefined && revertData.length >= 10) {
        try {
          const decoded = decodeErrorResult({ abi: errorsAbi, data: revertData });
          name = decoded.errorName;
          args = decoded.args ?? [];
        } catch {
          try {
            const decoded = decodeErrorResult({ data: revertData });
            name = decoded.errorName;
            args = decoded.args ?? [];
          } catch {
            name = `unknown error ${revertData.slice(0, 10)}`;
          }
        }
      }
      refuse(name, `the transaction would revert with ${describeRevert(name, args)}`);
    } finally {
      simulateMs[simulations++ % simulateMs.length] = performance.now() - started;
    }
  }

  function latency(): RelayPreflightStats['simulateMs'] {
    const sorted = simulateMs.slice(0, Math.min(simulations, simulateMs.length)).sort();
    const at = (p: number) => Math.round((sorted[Math.min(sorted.length - 1, Math.ceil(p * sorted.length) - 1)] ?? 0) * 10) / 10;
    return { p50: at(0.5), p95: at(0.95), max: at(1) };
  }

  return {
    async check({ signer: signerAddress, nonce, fileUrls, signature, data }) {
      counts.checked++;
      const problem = signatureProblem(signature);
      if (problem !== undefined) {
        const reason = problem.startsWith('s is') ? 'ECDSAInvalidSignatureS' : 'ECDSAInvalidSignature';
        refuse(reason, `${reason === 'ECDSAInvalidSignatureS' ? 'non-canonical signature (high s)' : problem}; the contract would revert with ${reason}`);
      }
      const signer = signerAddress.toLowerCase();
      prune(Date.now());
      for (const reservation of conflicts(signer, fileUrls)) {
        if (!(await mined(reservation))) refuseConflict(reservation, signer, fileUrls);
        release(reservation);
      }
      await simulate(data);
      // A relay of the same user (or file) that passed while this one was simulating wins.
      const [first] = conflicts(signer, fileUrls);
      if (first) refuseConflict(first, signer, fileUrls);
      const reservation: Reservation = { signer, nonce, fileUrls: [...fileUrls], at: Date.now() };
      bySigner.set(signer, reservation);
      for (const url of fileUrls) byFile.set(url, reservation);
      counts.passed++;
      return {
        track(submission) {
          submission.then(
            (sent) => {
              reservation.sent = sent;
            },
            () => release(reservation),
          );
        },
      };
    },
    stats: () => ({ ...counts, refused: { ...refused }, inFlight: bySigner.size, simulateMs: latency() }),
  };
}
