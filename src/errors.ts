/**
 * The one error hierarchy of vana-load.
 *
 * Every error the harness raises on purpose is a `VanaLoadError`: it has a stable `code`
 * (for tests and tooling), the flow `step` it happened in (when it happened in a flow), an
 * error `errorClass` (ARCHITECTURE.md 6) used for counters and retry decisions, labelled
 * context lines, and the original `cause`. Messages never contain secrets: callers pass
 * addresses and URLs, never keys.
 */

import type { ErrorClass, StepName } from './flow.ts';

export interface VanaLoadErrorParameters {
  /** Stable machine-readable code, e.g. `ECIES_BAD_MAC`. */
  code: string;
  errorClass?: ErrorClass;
  step?: StepName;
  /** Labelled context lines shown under the message (`label: value`). No secrets. */
  metaMessages?: readonly string[];
  cause?: unknown;
}

export class VanaLoadError extends Error {
  override name = 'VanaLoadError';
  readonly code: string;
  readonly errorClass: ErrorClass;
  readonly step: StepName | undefined;
  readonly shortMessage: string;
  readonly metaMessages: readonly string[];

  constructor(shortMessage: string, params: VanaLoadErrorParameters) {
    const meta = params.metaMessages ?? [];
    super(meta.length > 0 ? `${shortMessage}\n\n${meta.join('\n')}` : shortMessage, {
      cause: params.cause,
    });
    this.shortMessage = shortMessage;
    this.code = params.code;
    this.errorClass = params.errorClass ?? 'other';
    this.step = params.step;
    this.metaMessages = meta;
  }

  /** Walks the cause chain; returns the first error matching `predicate`, or the deepest one. */
  walk(predicate?: (err: unknown) => boolean): unknown {
    let current: unknown = this;
    for (let depth = 0; depth < 32; depth++) {
      if (predicate?.(current)) return current;
      const next = current instanceof Error ? current.cause : undefined;
      if (next === undefined) return predicate ? undefined : current;
      current = next;
    }
    return predicate ? undefined : current;
  }
}

/** Bad user input or configuration: the CLI maps it to exit code 2. */
export class ConfigError extends VanaLoadError {
  override name = 'ConfigError';
  constructor(shortMessage: string, params: Omit<VanaLoadErrorParameters, 'code'> & { code?: string } = {}) {
    super(shortMessage, { code: params.code ?? 'CONFIG_INVALID', ...params });
  }
}

/** Infrastructure could not start or be reached (stack, RPC): the CLI maps it to exit code 3. */
export class InfrastructureError extends VanaLoadError {
  override name = 'InfrastructureError';
  constructor(shortMessage: string, params: Omit<VanaLoadErrorParameters, 'code'> & { code?: string } = {}) {
    super(shortMessage, { code: params.code ?? 'INFRA_UNAVAILABLE', errorClass: 'network', ...params });
  }
}
