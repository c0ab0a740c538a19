/**
 * The error a personal-server request ends with: an HTTP status, a protocol `error_code`
 * (PROTOCOL.md 9) and, for validation errors, the offending field. Part of the `VanaLoadError`
 * hierarchy so logs and tests see one kind of error; `toBody()` gives the wire form.
 */
import { VanaLoadError } from '../../errors.ts';
import { type ErrorClass } from '../../flow.ts';
import type { PersonalServerErrorBody, PersonalServerErrorCode } from '../../protocol/personalServerApi.ts';

export interface PersonalServerErrorParameters {
  status: number;
  errorCode: PersonalServerErrorCode;
  field?: string;
  /** Seconds for a `Retry-After` header (429, 503). */
  retryAfterSeconds?: number;
  metaMessages?: readonly string[];
  cause?: unknown;
}

function errorClassOf(status: number): ErrorClass {
  if (status === 429) return 'rate_limited';
  return status >= 500 ? 'http_5xx' : 'http_4xx';
}

export class PersonalServerError extends VanaLoadError {
  override name = 'PersonalServerError';
  readonly status: number;
  readonly errorCode: PersonalServerErrorCode;
  readonly field: string | undefined;
  readonly retryAfterSeconds: number | undefined;

  constructor(shortMessage: string, params: PersonalServerErrorParameters) {
    super(shortMessage, {
      code: `PERSONAL_SERVER_${params.errorCode}`,
      errorClass: errorClassOf(params.status),
      ...(params.metaMessages ? { metaMessages: params.metaMessages } : {}),
      cause: params.cause,
    });
    this.status = params.status;
    this.errorCode = params.errorCode;
    this.field = params.field;
    this.retryAfterSeconds = params.retryAfterSeconds;
  }

  /** The FastAPI-shaped body: `{ detail: { kind, detail, error_code, field } }`. */
  toBody(): PersonalServerErrorBody {
    return { detail: { kind: 'Error', detail: this.shortMessage, error_code: this.errorCode, field: this.field ?? null } };
  }
}

/** The text of an unknown thrown value, for error details (never includes secrets: callers pass none). */
export function reasonOf(err: unknown): string {
  if (err instanceof VanaLoadError) return err.shortMessage;
  if (err instanceof Error) {
    const short = (err as { shortMessage?: unknown }).shortMessage;
    const base = typeof short === 'string' ? short : err.message;
    return err.cause instanceof Error && err.name === 'TypeError' ? `${base}: ${err.cause.message}` : base;
  }
  return String(err);
}
