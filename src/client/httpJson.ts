/**
 * JSON over HTTP for the flow's calls to the API server and the personal server, with a per-request
 * deadline and failures turned into `VanaLoadError`s of the right class: 429 → `rate_limited`
 * (with the Retry-After hint), other 4xx → `http_4xx`, 5xx → `http_5xx`, a deadline → `timeout`,
 * a refused or reset connection → `network`.
 */
import { VanaLoadError } from '../errors.ts';
import { type ErrorClass, type StepName } from '../flow.ts';
import { startDeadline } from '../util/deadlineSignal.ts';
import { headerValue, httpRequest, type HttpResponse } from './httpRequest.ts';

export interface HttpJsonParameters {
  method: 'GET' | 'POST';
  url: string;
  /** Serialized JSON body (POST). */
  body?: string;
  step: StepName;
  timeoutMs: number;
  signal?: AbortSignal;
}

/** A failed HTTP exchange. `retryAfterMs` is read by the retry policy (src/util/retry.ts). */
export class HttpError extends VanaLoadError {
  override name = 'HttpError';
  readonly httpStatus: number | undefined;
  readonly retryAfterMs: number | undefined;
  /** The start (2 KB) of the answer's body, for callers that read the server's own error. */
  readonly body: string | undefined;

  constructor(
    message: string,
    params: { code: string; errorClass: ErrorClass; step: StepName; httpStatus?: number; retryAfterMs?: number; body?: string; cause?: unknown },
  ) {
    super(message, { code: params.code, errorClass: params.errorClass, step: params.step, cause: params.cause });
    this.httpStatus = params.httpStatus;
    this.retryAfterMs = params.retryAfterMs;
    this.body = params.body;
  }
}

export function errorClassOfHttpStatus(status: number): ErrorClass {
  if (status === 429) return 'rate_limited';
  if (status >= 500) return 'http_5xx';
  if (status >= 400) return 'http_4xx';
  return 'other';
}

/** Retry-After in seconds or as an HTTP date, as ms from now; undefined when absent or unreadable. */
export function parseRetryAfterHeader(value: string | null, now = Date.now()): number | undefined {
  if (value === null || value.trim() === '') return undefined;
  const seconds = Number(value);
  if (Number.isFinite(seconds) && seconds >= 0) return Math.round(seconds * 1000);
  const date = Date.parse(value);
  return Number.isNaN(date) ? undefined : Math.max(0, date - now);
}

/** Where a URL points, without query string or credentials (query strings can carry signed tokens). */
function describeUrl(url: string): string {
  try {
    const u = new URL(url);
    return `${u.protocol}//${u.host}${u.pathname}`;
  } catch {
    return '<bad url>';
  }
}

const NETWORK_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'EPIPE', 'ENOTFOUND', 'EAI_AGAIN', 'EHOSTUNREACH', 'ENETUNREACH', 'UND_ERR_SOCKET', 'UND_ERR_CLOSED']);

function networkCode(err: unknown): string | undefined {
  let current: unknown = err;
  for (let depth = 0; depth < 8 && current instanceof Error; depth++) {
    const code = (current as NodeJS.ErrnoException).code;
    if (code && NETWORK_CODES.has(code)) return code;
    current = current.cause;
  }
  return undefined;
}

/** Sends one request and returns the parsed JSON body of a 2xx answer; throws `HttpError` otherwise. */
export async function httpJson(params: HttpJsonParameters): Promise<unknown> {
  return (await httpJsonWithText(params)).json;
}

/** As `httpJson`, and the body as received (to quote an answer of an unknown shape). */
export async function httpJsonWithText({ method, url, body, step, timeoutMs, signal }: HttpJsonParameters): Promise<{ json: unknown; text: string }> {
  const where = `${method} ${describeUrl(url)}`;
  const deadline = startDeadline(timeoutMs, signal);
  let response: HttpResponse;
  try {
    response = await httpRequest({ method, url, ...(body !== undefined ? { body, headers: { 'content-type': 'application/json' } } : {}), signal: deadline.signal });
  } catch (err) {
    if (signal?.aborted) {
      throw new HttpError(`${where} aborted`, { code: 'ABORTED', errorClass: 'other', step, cause: err });
    }
    if (deadline.timedOut()) {
      throw new HttpError(`${where} timed out after ${timeoutMs} ms`, { code: 'HTTP_TIMEOUT', errorClass: 'timeout', step, cause: err });
    }
    const code = networkCode(err);
    throw new HttpError(`${where} failed: ${code ?? (err instanceof Error ? err.message : String(err))}`, {
      code: 'HTTP_NETWORK',
      errorClass: code ? 'network' : 'other',
      step,
      cause: err,
    });
  } finally {
    deadline.clear();
  }
  const { status, text } = response;
  if (status < 200 || status > 299) {
    const retryAfterMs = parseRetryAfterHeader(headerValue(response.headers, 'retry-after'));
    const detail = text.length > 200 ? `${text.slice(0, 197)}...` : text;
    throw new HttpError(`${where} answered ${status}: ${detail.replace(/\s+/g, ' ').trim()}`, {
      code: 'HTTP_STATUS',
      errorClass: errorClassOfHttpStatus(status),
      step,
      httpStatus: status,
      ...(retryAfterMs !== undefined ? { retryAfterMs } : {}),
      body: text.slice(0, 2_048),
    });
  }
  try {
    return { json: JSON.parse(text) as unknown, text };
  } catch (err) {
    throw new HttpError(`${where} answered ${status} with a body that is not JSON`, { code: 'HTTP_BAD_JSON', errorClass: 'other', step, httpStatus: status, cause: err });
  }
}
