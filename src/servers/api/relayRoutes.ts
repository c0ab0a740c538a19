/**
 * `/api/relay`: a user's signed `ServerFilesAndPermission` checked (domain, signature, optional
 * expected user) and submitted through the relayer pool after the preflight; the same calldata
 * within RELAY_DEDUP_MS gets the first answer; `status_check` for the stateful (`pending`) mode;
 * `storeGrantFile` when the server has grant storage.
 */
import { createHash, randomUUID } from 'node:crypto';
import type { FastifyInstance, FastifyReply } from 'fastify';
import { encodeFunctionData, isAddressEqual, type Address, type Hex, type PublicClient } from 'viem';
import type { Logger } from 'pino';
import { VanaLoadError } from '../../errors.ts';
import { dataPortabilityPermissionsAbi } from '../../protocol/abis.ts';
import { PERMISSIONS_DOMAIN_NAME, PERMISSIONS_DOMAIN_VERSION } from '../../protocol/eip712.ts';
import { serializeGrantFile } from '../../protocol/grantFile.ts';
import { parseRelayerRequest, type SignedServerFilesAndPermissionRequest } from '../../protocol/relayerRequest.ts';
import { receiptToJson, type RelayResponseJson as RelayResponse } from '../../protocol/relayerResponse.ts';
import { normalizeSignatureV } from '../../protocol/signature.ts';
import type { StorageProvider } from '../../storage/StorageProvider.ts';
import { RelayRefusedError, type RelayPreflight } from '../../chain/relayPreflight.ts';
import { RelayerRevertError, type RelayerPool } from '../../chain/relayerPool.ts';
import { describe } from './apiBodies.ts';
import type { RelaySignerRecovery } from './relaySignerRecovery.ts';

/** How long a relayed request's hash is remembered, so a retry of it gets the same hash. */
export const RELAY_DEDUP_MS = 10 * 60_000;

export interface RelayRoutesParameters {
  chainId: number;
  permissionsAddress: Address;
  relayerPool: RelayerPool;
  relayResponse: 'submitted' | 'pending';
  grantStorage: StorageProvider | undefined;
  preflight: RelayPreflight | undefined;
  signerRecovery: RelaySignerRecovery;
  /** Reads receipts for `status_check`. */
  chain: PublicClient;
  log: Logger;
}

/**
 * Registers `POST /api/relay` on `app`.
 *
 * @example
 * registerRelayRoutes(app, { chainId, permissionsAddress, relayerPool, relayResponse: 'submitted', grantStorage, preflight, signerRecovery, chain, log });
 */
export function registerRelayRoutes(
  app: FastifyInstance,
  { chainId, permissionsAddress, relayerPool, relayResponse, grantStorage, preflight, signerRecovery, chain, log }: RelayRoutesParameters,
): void {
  const relayError = (reply: FastifyReply, status: number, error: string): RelayResponse => {
    void reply.status(status);
    return { type: 'error', error };
  };

  // A client whose /api/relay timed out retries the same signed request; a second transaction
  // would only revert (InvalidNonce) and fail a flow whose permission landed. So the same calldata
  // within RELAY_DEDUP_MS gets the first one's answer, preflight included (a failed or refused
  // submission may be retried). The key is a sha256 (native) of the calldata: any collision-free
  // digest does, and keccak in JS costs ~50x more.
  const submissions = new Map<string, { at: number; hash: Promise<Hex> }>();
  const relayOnce = (data: Hex, signer: Address, message: SignedServerFilesAndPermissionRequest['typedData']['message'], signature: Hex): Promise<Hex> => {
    const key = createHash('sha256').update(data).digest('base64');
    const now = Date.now();
    for (const [k, entry] of submissions) {
      if (now - entry.at < RELAY_DEDUP_MS) break; // insertion order: the rest are newer
      submissions.delete(k);
    }
    const known = submissions.get(key);
    if (known) return known.hash;
    const hash = (async () => {
      const pass = await preflight?.check({ signer, nonce: message.nonce, fileUrls: message.fileUrls, signature, data });
      const submitted = relayerPool.submit({ to: permissionsAddress, data, abi: dataPortabilityPermissionsAbi });
      pass?.track(submitted);
      return (await submitted).hash;
    })();
    submissions.set(key, { at: now, hash });
    hash.catch(() => submissions.delete(key));
    return hash;
  };

  // The operation store of `relayResponse: 'pending'`: operation id → the hash it waits on.
  const operations = new Map<string, { at: number; hash: Promise<Hex> }>();
  const rememberOperation = (hash: Promise<Hex>): string => {
    const now = Date.now();
    for (const [k, entry] of operations) {
      if (now - entry.at < RELAY_DEDUP_MS) break;
      operations.delete(k);
    }
    const id = randomUUID();
    operations.set(id, { at: now, hash });
    return id;
  };

  async function statusOf(operationId: string, reply: FastifyReply): Promise<RelayResponse> {
    const operation = operations.get(operationId);
    if (!operation) return relayError(reply, 404, 'Operation not found');
    let hash: Hex;
    try {
      hash = await operation.hash;
    } catch (err) {
      return { type: 'error', error: err instanceof VanaLoadError ? err.shortMessage : String(err) };
    }
    const receipt = await chain.getTransactionReceipt({ hash }).catch(() => undefined);
    if (receipt === undefined) return { type: 'pending', operationId };
    if (receipt.status !== 'success') return { type: 'error', error: `transaction ${hash} reverted in block ${receipt.blockNumber}` };
    return { type: 'confirmed', hash, receipt: receiptToJson(receipt) };
  }

  app.post('/api/relay', async (request, reply): Promise<RelayResponse> => {
    let relay: ReturnType<typeof parseRelayerRequest>;
    try {
      relay = parseRelayerRequest(request.body);
    } catch (err) {
      return relayError(reply, 400, err instanceof VanaLoadError ? err.shortMessage : String(err));
    }
    if (relay.type === 'status_check') {
      if (relayResponse !== 'pending') return relayError(reply, 400, 'Stateless relayer does not support operation status checks.');
      return await statusOf(relay.operationId, reply);
    }
    if (relay.type === 'direct') {
      if (!grantStorage) return relayError(reply, 400, 'storeGrantFile: this relayer has no grant storage');
      try {
        const bytes = new TextEncoder().encode(serializeGrantFile(relay.params));
        const stored = await grantStorage.upload(bytes, `grant-${randomUUID()}.json`, { contentType: 'application/json' });
        return { type: 'direct_result_untracked', result: { url: stored.url } };
      } catch (err) {
        return relayError(reply, 502, `storeGrantFile: ${err instanceof VanaLoadError ? err.shortMessage : String(err)}`);
      }
    }
    const { domain, message } = relay.typedData;
    const domainProblem =
      domain.name !== PERMISSIONS_DOMAIN_NAME
        ? `typedData.domain.name: Expected "${PERMISSIONS_DOMAIN_NAME}", got ${describe(domain.name)}`
        : domain.version !== PERMISSIONS_DOMAIN_VERSION
          ? `typedData.domain.version: Expected "${PERMISSIONS_DOMAIN_VERSION}", got ${describe(domain.version)}`
          : domain.chainId !== chainId
            ? `typedData.domain.chainId: Expected ${chainId}, got ${domain.chainId}`
            : !isAddressEqual(domain.verifyingContract, permissionsAddress)
              ? `typedData.domain.verifyingContract: Expected ${permissionsAddress}, got ${domain.verifyingContract}`
              : undefined;
    if (domainProblem) return relayError(reply, 400, `Invalid relay request: ${domainProblem}`);
    let signer: Address;
    try {
      signer = signerRecovery.recover(relay.typedData, relay.signature);
    } catch (err) {
      return relayError(reply, 401, `signature: does not recover to an address (${err instanceof Error ? err.message.split('\n')[0] : String(err)})`);
    }
    // Optional in the protocol (the SDK's client leaves it out); checked when present, as the SDK's handler does.
    if (relay.expectedUserAddress !== undefined && !isAddressEqual(signer, relay.expectedUserAddress)) {
      return relayError(reply, 401, `signature: recovers to ${signer}, expected ${relay.expectedUserAddress}`);
    }
    const data = encodeFunctionData({
      abi: dataPortabilityPermissionsAbi,
      functionName: 'addServerFilesAndPermissions',
      args: [message, normalizeSignatureV(relay.signature)],
    });
    if (relayResponse === 'pending') {
      // As a stateful handleRelayerOperation: the submission is awaited, then tracked.
      const hash = relayOnce(data, signer, message, relay.signature);
      try {
        await hash;
      } catch (err) {
        return relayFailure(reply, err);
      }
      return { type: 'pending', operationId: rememberOperation(hash) };
    }
    try {
      return { type: 'submitted', hash: await relayOnce(data, signer, message, relay.signature) };
    } catch (err) {
      return relayFailure(reply, err);
    }
  });

  function relayFailure(reply: FastifyReply, err: unknown): RelayResponse {
    if (err instanceof RelayRefusedError) return relayError(reply, err.status, err.shortMessage);
    if (err instanceof RelayerRevertError) return relayError(reply, 422, err.shortMessage);
    const text = err instanceof VanaLoadError ? err.shortMessage : String(err);
    log.warn({ err: text }, 'relay failed');
    return relayError(reply, 503, text);
  }
}
