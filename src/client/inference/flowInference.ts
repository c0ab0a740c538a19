/**
 * How a flow asks for an inference on its permission (ARCHITECTURE.md 10): through an app's
 * `/api/trusted-server` proxy, or on the personal server's own API with the app's signature, as
 * the SDK's server controller does. The client's `inference_submit` step calls `submit`, and its
 * `inference_wait` step calls `poll` until the operation reaches a final status.
 */
import type { OperationStatusValue } from '../../protocol/personalServerApi.ts';

export const INFERENCE_MODES = ['proxy', 'personal-server'] as const;
export type InferenceMode = (typeof INFERENCE_MODES)[number];

export interface OperationSnapshot {
  status: OperationStatusValue;
  /** The result (succeeded) or error text (failed), when the server gave one. */
  result: string | null;
}

export interface FlowInference {
  readonly mode: InferenceMode;
  /** Starts an operation for the permission; returns its id. */
  submit(permissionId: bigint, ctx: { signal: AbortSignal }): Promise<string>;
  /** One look at the operation. */
  poll(operationId: string, ctx: { signal: AbortSignal }): Promise<OperationSnapshot>;
}
