/**
 * `personal-server` inference mode: the personal server's own API, as the SDK's server controller
 * calls it (PROTOCOL.md 9). The request is `{app_signature, operation_request_json}` where the app
 * (grantee) key signs the exact JSON string; the answer is 202 `OperationCreated`, then
 * `GET /operations/{id}` is polled. A 429 keeps its `Retry-After` (class `rate_limited`), which the
 * step's retry policy honours.
 */
import type { LocalAccount } from 'viem';
import { VanaLoadError } from '../../errors.ts';
import { createOperationResponseSchema, operationRequestJson, operationStatusSchema, type CreateOperationRequest } from '../../protocol/personalServerApi.ts';
import { httpJson } from '../httpJson.ts';
import { asStorageFailure } from './storageFailure.ts';
import type { FlowInference } from './flowInference.ts';

export interface CreatePersonalServerInferenceParameters {
  /** Personal-server base URL (`/operations` is appended), e.g. `https://test.server.vana.com/api/v1`. */
  personalServerUrl: string;
  /** The grantee's key: the server requires the signer to be the permission's grantee. */
  app: LocalAccount;
  httpTimeoutMs: number;
}

/**
 * @example
 * const inference = createPersonalServerInference({ personalServerUrl, app, httpTimeoutMs: 30_000 });
 */
export function createPersonalServerInference({ personalServerUrl, app, httpTimeoutMs }: CreatePersonalServerInferenceParameters): FlowInference {
  const base = personalServerUrl.replace(/\/+$/, '');
  return {
    mode: 'personal-server',
    async submit(permissionId, { signal }) {
      const json = operationRequestJson(permissionId);
      const request: CreateOperationRequest = { app_signature: await app.signMessage({ message: json }), operation_request_json: json };
      const body = await httpJson({ method: 'POST', url: `${base}/operations`, body: JSON.stringify(request), step: 'inference_submit', timeoutMs: httpTimeoutMs, signal }).catch(
        (err: unknown) => {
          throw asStorageFailure(err);
        },
      );
      const created = createOperationResponseSchema.safeParse(body);
      if (!created.success) {
        throw new VanaLoadError(`personal server answered without an OperationCreated body: ${JSON.stringify(body).slice(0, 200)}`, { code: 'BAD_SUBMIT_RESPONSE', step: 'inference_submit' });
      }
      return created.data.id;
    },
    async poll(operationId, { signal }) {
      const body = await httpJson({ method: 'GET', url: `${base}/operations/${encodeURIComponent(operationId)}`, step: 'inference_wait', timeoutMs: httpTimeoutMs, signal });
      const status = operationStatusSchema.safeParse(body);
      if (!status.success) {
        throw new VanaLoadError(`personal server answered without an OperationStatus body: ${JSON.stringify(body).slice(0, 200)}`, { code: 'BAD_POLL_RESPONSE', step: 'inference_wait' });
      }
      return { status: status.data.status, result: status.data.result ?? null };
    },
  };
}
