/**
 * `api` relay mode: an app's relayer endpoint speaking the SDK's unified protocol (PROTOCOL.md 8).
 * The signed request goes out as the SDK client sends it; every answer of `UnifiedRelayerResponse`
 * is understood: `submitted` and the older `signed` carry a hash, `confirmed` may carry the
 * receipt, and `pending` is polled with `status_check` (backing off ×1.5 up to 5 s, as the SDK's
 * client does) inside the flow's deadline. The same endpoint stores grant files (`storeGrantFile`).
 */
import type { Hash } from 'viem';
import { VanaLoadError } from '../../errors.ts';
import { type ErrorClass, type StepName } from '../../flow.ts';
import type { GrantFile } from '../../protocol/grantFile.ts';
import { serializeSignedRelayRequest } from '../../protocol/relayerRequest.ts';
import { grantUrlOf, parseRelayResponse, type RelayedReceipt, type RelayResponse } from '../../protocol/relayerResponse.ts';
import { classifySendError, SEND_ERROR_CLASS } from '../../chain/sendErrors.ts';
import { sleepUnlessAborted } from '../../util/deadlineSignal.ts';
import { httpJsonWithText } from '../httpJson.ts';
import type { FlowRelay } from './flowRelay.ts';

export interface CreateApiRelayParameters {
  /** The relayer endpoint, e.g. `https://app.example/api/relay`. */
  url: string;
  /** Deadline of one HTTP request. */
  httpTimeoutMs: number;
  /** First pause between `status_check`s; grows ×1.5 up to `maxPollIntervalMs`. Default 250. */
  pollIntervalMs?: number;
  /** Default 5_000, as the SDK's client. */
  maxPollIntervalMs?: number;
}

/** The error a relayer's `{type:"error"}` stands for, classed by its words (a revert, a nonce, ...). */
export function relayRefusal(error: string, step: StepName): VanaLoadError {
  const kind = classifySendError(new Error(error));
  const errorClass: ErrorClass = kind === 'other' || kind === 'insufficient_funds' ? 'other' : SEND_ERROR_CLASS[kind];
  return new VanaLoadError(`relayer refused: ${error.slice(0, 200)}`, { code: 'RELAY_REFUSED', errorClass, step });
}

function unexpected(response: RelayResponse, step: StepName, what: string): VanaLoadError {
  return new VanaLoadError(`Invalid relay response: a ${response.type} answer to ${what}`, { code: 'RELAY_RESPONSE_INVALID', step });
}

/**
 * @example
 * const relay = createApiRelay({ url: `${apiUrl}/api/relay`, httpTimeoutMs: 30_000 });
 * const outcome = await relay.submit(request, { account, signal });
 */
export function createApiRelay({ url, httpTimeoutMs, pollIntervalMs = 250, maxPollIntervalMs = 5_000 }: CreateApiRelayParameters): FlowRelay & {
  storeGrantFile(grant: GrantFile, ctx: { signal: AbortSignal }): Promise<string>;
} {
  async function post(body: string, step: StepName, signal: AbortSignal): Promise<RelayResponse> {
    const { json, text } = await httpJsonWithText({ method: 'POST', url, body, step, timeoutMs: httpTimeoutMs, signal });
    try {
      return parseRelayResponse(json, text);
    } catch (err) {
      if (err instanceof VanaLoadError && step !== 'relay') throw new VanaLoadError(err.shortMessage, { code: err.code, step });
      throw err;
    }
  }

  return {
    mode: 'api',
    retryable: true,

    async submit(request, { signal }) {
      const response = await post(serializeSignedRelayRequest(request), 'relay', signal);
      switch (response.type) {
        case 'submitted':
        case 'signed':
          return { kind: 'submitted', hash: response.hash };
        case 'pending':
          return { kind: 'pending', operationId: response.operationId };
        case 'confirmed':
          return { kind: 'confirmed', hash: response.hash, ...(response.receipt ? { receipt: response.receipt } : {}) };
        case 'error':
          throw relayRefusal(response.error, 'relay');
        default:
          throw unexpected(response, 'relay', 'a signed request');
      }
    },

    async awaitOperation(operationId, { signal, timeoutMs }): Promise<{ hash: Hash; receipt?: RelayedReceipt }> {
      const deadline = Date.now() + timeoutMs;
      const body = JSON.stringify({ type: 'status_check', operationId });
      for (let pause = pollIntervalMs; ; pause = Math.min(maxPollIntervalMs, Math.ceil(pause * 1.5))) {
        const response = await post(body, 'confirm', signal);
        if (response.type === 'confirmed') return { hash: response.hash, ...(response.receipt ? { receipt: response.receipt } : {}) };
        if (response.type === 'error') throw relayRefusal(`operation ${operationId}: ${response.error}`, 'confirm');
        if (response.type !== 'pending') throw unexpected(response, 'confirm', 'a status_check');
        if (Date.now() + pause > deadline) {
          throw new VanaLoadError(`relayer operation ${operationId} still pending after ${timeoutMs} ms`, { code: 'CONFIRM_TIMEOUT', errorClass: 'timeout', step: 'confirm' });
        }
        await sleepUnlessAborted(pause, signal, () => new VanaLoadError('flow aborted while polling the relayer', { code: 'ABORTED', step: 'confirm' }));
      }
    },

    async storeGrantFile(grant, { signal }) {
      const response = await post(JSON.stringify({ type: 'direct', operation: 'storeGrantFile', params: grant }), 'upload_grant', signal);
      return grantUrlOf(response);
    },

    close: async () => {},
  };
}
