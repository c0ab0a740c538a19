/**
 * `proxy` inference mode: the app's own API in front of the personal server, as the original load
 * test's `/api/trusted-server` (`{permissionId}` → `{success, data:{id}}`) and
 * `/api/trusted-server/poll` (`{operationId, chainId}` → `{success, data:{status, result}}`).
 */
import { VanaLoadError } from '../../errors.ts';
import { OPERATION_STATUSES, type OperationStatusValue } from '../../protocol/personalServerApi.ts';
import { httpJson } from '../httpJson.ts';
import { asStorageFailure } from './storageFailure.ts';
import type { FlowInference } from './flowInference.ts';

export interface CreateProxyInferenceParameters {
  /** The app's API base URL; `/api/trusted-server` is appended. */
  apiUrl: string;
  chainId: number;
  httpTimeoutMs: number;
}

/**
 * @example
 * const inference = createProxyInference({ apiUrl, chainId, httpTimeoutMs: 30_000 });
 * const id = await inference.submit(42n, { signal });
 */
export function createProxyInference({ apiUrl, chainId, httpTimeoutMs }: CreateProxyInferenceParameters): FlowInference {
  return {
    mode: 'proxy',
    async submit(permissionId, { signal }) {
      const body = (await httpJson({
        method: 'POST',
        url: `${apiUrl}/api/trusted-server`,
        body: JSON.stringify({ permissionId: permissionId.toString() }),
        step: 'inference_submit',
        timeoutMs: httpTimeoutMs,
        signal,
      }).catch((err: unknown) => {
        throw asStorageFailure(err);
      })) as { success?: boolean; data?: { id?: unknown }; error?: string };
      if (!body.success || typeof body.data?.id !== 'string') {
        throw new VanaLoadError(`trusted-server answered without an operation id: ${body.error ?? 'no error given'}`, { code: 'BAD_SUBMIT_RESPONSE', step: 'inference_submit' });
      }
      return body.data.id;
    },
    async poll(operationId, { signal }) {
      const body = (await httpJson({
        method: 'POST',
        url: `${apiUrl}/api/trusted-server/poll`,
        body: JSON.stringify({ operationId, chainId }),
        step: 'inference_wait',
        timeoutMs: httpTimeoutMs,
        signal,
      })) as { success?: boolean; data?: { status?: unknown; result?: unknown }; error?: string };
      const status = body.data?.status;
      if (!body.success || !(OPERATION_STATUSES as readonly unknown[]).includes(status)) {
        throw new VanaLoadError(`poll answered without a status: ${body.error ?? 'no error given'}`, { code: 'BAD_POLL_RESPONSE', step: 'inference_wait' });
      }
      return { status: status as OperationStatusValue, result: typeof body.data?.result === 'string' ? body.data.result : null };
    },
  };
}
