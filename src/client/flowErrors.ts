/**
 * A flow's errors: made by the client's steps with their class, or classified when they come from
 * elsewhere (viem's, a server's), so every failure is counted under one step and one class.
 */
import { BaseError, ContractFunctionRevertedError } from 'viem';
import { VanaLoadError } from '../errors.ts';
import type { ErrorClass, FlowError, StepName } from '../flow.ts';

/** An error of `step`, of class `errorClass`. */
export function flowError(step: StepName, errorClass: ErrorClass, code: string, message: string): VanaLoadError {
  return new VanaLoadError(message, { code, errorClass, step });
}

/** Classifies an error thrown in `step` (ours keep their class; viem's are read). */
export function toFlowError(err: unknown, step: StepName): FlowError {
  if (err instanceof VanaLoadError) {
    const status = (err as { httpStatus?: unknown }).httpStatus;
    return {
      step: err.step ?? step,
      errorClass: err.errorClass,
      code: err.code,
      message: err.shortMessage.split('\n')[0]!.slice(0, 300),
      ...(typeof status === 'number' ? { httpStatus: status } : {}),
    };
  }
  if (err instanceof BaseError) {
    const text = `${err.shortMessage} ${err.details ?? ''}`.toLowerCase();
    const revert = err.walk((e) => e instanceof ContractFunctionRevertedError);
    let errorClass: ErrorClass = 'other';
    if (revert) errorClass = 'revert';
    else if (/nonce too low|nonce too high|invalid nonce|nonce has already been used/.test(text)) errorClass = 'nonce';
    else if (/underpriced|fee too low|max fee per gas less than block base fee/.test(text)) errorClass = 'underpriced';
    else if (/timed? ?out|timeout/.test(text)) errorClass = 'timeout';
    else if (/fetch failed|econnrefused|econnreset|socket|network/.test(text)) errorClass = 'network';
    else if (/revert/.test(text)) errorClass = 'revert';
    return { step, errorClass, code: err.name, message: err.shortMessage.slice(0, 300) };
  }
  const message = err instanceof Error ? err.message : String(err);
  return { step, errorClass: 'other', code: err instanceof Error ? err.name : 'UNKNOWN', message: message.split('\n')[0]!.slice(0, 300) };
}
