/**
 * The storage contract of the flow (ARCHITECTURE.md 3): the client uploads the encrypted file and
 * the grant file and registers the returned URL on chain; the personal server later downloads it
 * from that URL, so the URL must be publicly downloadable (PROTOCOL.md 6) without credentials.
 *
 * Two providers fit this interface. `local` is the stack's storage service (`PUT /files/:name`
 * answers with a permanent public URL). `s3` PUTs the bytes to an object key (SigV4-signed) and
 * answers with a presigned GET URL, which expires: hence `expiresAt`, and hence no promise that
 * equal bytes give equal URLs.
 *
 * This file also holds what every provider shares: the blob-name rule, the reading of an error
 * body and the mapping from HTTP outcomes to `StorageError`s with the error classes of
 * ARCHITECTURE.md 6.
 */
import { VanaLoadError } from '../errors.ts';
import { type ErrorClass, type StepName } from '../flow.ts';

export type StorageProviderKind = 'local' | 's3';

export interface UploadOptions {
  /** Aborts the upload (Ctrl-C, the flow's deadline); the provider adds its own per-request timeout. */
  signal?: AbortSignal;
  /** Stored with the object where the provider keeps it (S3); default `application/octet-stream`. */
  contentType?: string;
  /** The flow step this upload belongs to (`upload_data`, `upload_grant`), copied onto errors. */
  step?: StepName;
}

export interface UploadResult {
  /** Where anyone can GET the bytes, without credentials. */
  url: string;
  /** Bytes stored, as reported by the store. */
  bytes: number;
  /** Epoch ms after which `url` stops working (presigned URLs); undefined = never. */
  expiresAt?: number;
}

export interface DownloadOptions {
  signal?: AbortSignal;
  /** Refuse a body larger than this (checked against content-length and while reading). */
  maxBytes?: number;
  step?: StepName;
}

/**
 * Where the flow's files go. `upload` is the hot path of every virtual user; `download` lets the
 * harness verify a URL serves what was uploaded (and is what the personal server does).
 */
export interface StorageProvider {
  readonly kind: StorageProviderKind;
  /**
   * Stores `bytes` under `name` (see `blobNameProblem` for the rule) and returns its public URL.
   * Fails with a `StorageError`.
   */
  upload(bytes: Uint8Array, name: string, options?: UploadOptions): Promise<UploadResult>;
  /** GETs a URL returned by `upload`. Fails with a `StorageError`. */
  download(url: string, options?: DownloadOptions): Promise<Uint8Array>;
}

/** Longest accepted blob name: fits any S3 key prefix scheme and keeps URLs short. */
export const MAX_BLOB_NAME_LENGTH = 200;

// URL- and S3-key-safe without escaping, so a name never changes meaning on the way: no `/`, no
// `%`, no spaces. `.` and `..` alone are path traversal once placed in a URL path.
const BLOB_NAME = /^[A-Za-z0-9._-]+$/;

/**
 * Checks a blob name at the door. Returns what is wrong with it (a sentence starting with
 * "Expected"), or undefined when it is fine.
 *
 * @example
 * blobNameProblem('data_1a2b.bin'); // undefined
 * blobNameProblem('../etc/passwd'); // 'Expected 1-200 characters …, got "../etc/passwd"'
 */
export function blobNameProblem(name: unknown): string | undefined {
  const expected = `Expected 1-${MAX_BLOB_NAME_LENGTH} characters of A-Z a-z 0-9 . _ - (not "." or "..")`;
  if (typeof name !== 'string') return `${expected}, got ${Array.isArray(name) ? 'several names' : typeof name}`;
  if (name.length === 0) return `${expected}, got an empty name`;
  if (name.length > MAX_BLOB_NAME_LENGTH) return `${expected}, got ${name.length} characters`;
  if (!BLOB_NAME.test(name) || name === '.' || name === '..') return `${expected}, got ${JSON.stringify(name)}`;
  return undefined;
}

/**
 * Checks an upload's arguments at the door, before any request: `STORAGE_BAD_INPUT` for bytes
 * that are not a `Uint8Array`, `STORAGE_BAD_NAME` for a name that breaks `blobNameProblem`.
 */
export function checkUploadInput(bytes: unknown, name: unknown): void {
  if (!(bytes instanceof Uint8Array)) {
    throw new VanaLoadError(`Expected bytes as a Uint8Array, got ${describeType(bytes)}`, { code: 'STORAGE_BAD_INPUT' });
  }
  const problem = blobNameProblem(name);
  if (problem) throw new VanaLoadError(`Invalid blob name: ${problem}`, { code: 'STORAGE_BAD_NAME' });
}

function describeType(value: unknown): string {
  if (value === null) return 'null';
  if (typeof value === 'object') return (value as object).constructor?.name ?? 'object';
  return typeof value;
}

export type StorageOperation = 'upload' | 'download';

export interface StorageErrorParameters {
  code: string;
  errorClass: ErrorClass;
  operation: StorageOperation;
  method: string;
  /** The request URL; the error keeps only its origin and path (see `redactUrl`). */
  url: string;
  status?: number;
  retryAfterMs?: number;
  step?: StepName;
  metaMessages?: readonly string[];
  cause?: unknown;
}

/**
 * A failed storage request. Shaped like its request (operation, method, target, status) so that
 * counters and retries need no message parsing. Never holds the uploaded bytes.
 */
export class StorageError extends VanaLoadError {
  override name = 'StorageError';
  readonly operation: StorageOperation;
  readonly method: string;
  /** Origin and path of the request URL; the query (presigned signatures) is left out. */
  readonly target: string;
  readonly status: number | undefined;
  /** From a 429's or 503's `Retry-After`, when the server sent one. */
  readonly retryAfterMs: number | undefined;

  constructor(shortMessage: string, params: StorageErrorParameters) {
    super(shortMessage, {
      code: params.code,
      errorClass: params.errorClass,
      ...(params.step ? { step: params.step } : {}),
      ...(params.metaMessages ? { metaMessages: params.metaMessages } : {}),
      cause: params.cause,
    });
    this.operation = params.operation;
    this.method = params.method;
    this.target = redactUrl(params.url);
    this.status = params.status;
    this.retryAfterMs = params.retryAfterMs;
  }
}

/**
 * Drops the query of a URL: presigned URLs carry their signature there, and a signature is a
 * bearer credential for the object until it expires.
 */
export function redactUrl(url: string): string {
  const q = url.indexOf('?');
  return q === -1 ? url : `${url.slice(0, q)}?…`;
}

/** The error class of a non-2xx status (ARCHITECTURE.md 6). */
export function errorClassOfStatus(status: number): ErrorClass {
  if (status === 429) return 'rate_limited';
  if (status >= 500) return 'http_5xx';
  if (status >= 400) return 'http_4xx';
  return 'other';
}

/** The `StorageError` code of a non-2xx status: `STORAGE_NOT_FOUND`, `STORAGE_RATE_LIMITED`, `STORAGE_SERVER_ERROR`, … */
export function storageCodeOfStatus(status: number): string {
  switch (status) {
    case 404:
      return 'STORAGE_NOT_FOUND';
    case 410:
      return 'STORAGE_GONE';
    case 413:
      return 'STORAGE_TOO_LARGE';
    case 429:
      return 'STORAGE_RATE_LIMITED';
    default:
      return status >= 500 ? 'STORAGE_SERVER_ERROR' : status >= 400 ? 'STORAGE_REJECTED' : 'STORAGE_BAD_RESPONSE';
  }
}

function capitalized(operation: StorageOperation): string {
  return operation === 'upload' ? 'Upload' : 'Download';
}

export interface StorageStatusErrorParameters {
  operation: StorageOperation;
  method: string;
  url: string;
  status: number;
  /** The server's own explanation (its JSON `error`, or the start of its text body). */
  detail?: string;
  /** The raw `Retry-After` header. */
  retryAfter?: string | null;
  step?: StepName;
}

/**
 * The error for a response with an unexpected status: 413 → `STORAGE_TOO_LARGE`/`http_4xx`,
 * 429 → `rate_limited`, other 4xx → `http_4xx`, 5xx → `http_5xx`.
 *
 * @example
 * storageStatusError({ operation: 'upload', method: 'PUT', url, status: 413 }).message;
 * // 'Upload failed with status 413: PUT http://127.0.0.1:3002/files/x'
 */
export function storageStatusError({ operation, method, url, status, detail, retryAfter, step }: StorageStatusErrorParameters): StorageError {
  const retryAfterMs = parseRetryAfter(retryAfter);
  const meta = [
    ...(detail ? [`Server said: ${detail}`] : []),
    ...(status === 413 ? ['Fix: upload less, or raise the store limit (local stack: --max-upload).'] : []),
    ...(retryAfterMs !== undefined ? [`Retry after: ${retryAfterMs} ms`] : []),
  ];
  return new StorageError(`${capitalized(operation)} failed with status ${status}: ${method} ${redactUrl(url)}`, {
    code: storageCodeOfStatus(status),
    errorClass: errorClassOfStatus(status),
    operation,
    method,
    url,
    status,
    ...(retryAfterMs !== undefined ? { retryAfterMs } : {}),
    ...(step ? { step } : {}),
    ...(meta.length > 0 ? { metaMessages: meta } : {}),
  });
}

export interface StorageRequestErrorParameters {
  operation: StorageOperation;
  method: string;
  url: string;
  /** What `fetch` (or reading its body) threw. */
  cause: unknown;
  /** The provider's own timeout, to say which deadline passed. */
  timeoutMs?: number;
  step?: StepName;
}

/**
 * The error for a request that got no usable response: a timeout (`TimeoutError`) or an abort
 * (`AbortError`) → class `timeout` (codes `STORAGE_TIMEOUT` / `STORAGE_ABORTED` tell them apart);
 * anything else `fetch` throws (refused, reset, DNS) → class `network`, code `STORAGE_UNREACHABLE`.
 */
export function storageRequestError({ operation, method, url, cause, timeoutMs, step }: StorageRequestErrorParameters): StorageError {
  const target = `${method} ${redactUrl(url)}`;
  const name = cause instanceof Error || cause instanceof DOMException ? cause.name : undefined;
  const common = { operation, method, url, cause, ...(step ? { step } : {}) };
  if (name === 'TimeoutError') {
    const after = timeoutMs !== undefined ? ` after ${timeoutMs} ms` : '';
    return new StorageError(`${capitalized(operation)} timed out${after}: ${target}`, { code: 'STORAGE_TIMEOUT', errorClass: 'timeout', ...common });
  }
  if (name === 'AbortError') {
    return new StorageError(`${capitalized(operation)} aborted: ${target}`, { code: 'STORAGE_ABORTED', errorClass: 'timeout', ...common });
  }
  return new StorageError(`${capitalized(operation)} failed (${networkReason(cause)}): ${target}`, {
    code: 'STORAGE_UNREACHABLE',
    errorClass: 'network',
    ...common,
  });
}

/** undici wraps socket errors as `TypeError('fetch failed', { cause })`; the cause says what happened. */
function networkReason(err: unknown): string {
  let current: unknown = err;
  for (let depth = 0; depth < 4 && current instanceof Error; depth++) {
    const code = (current as Error & { code?: unknown }).code;
    if (typeof code === 'string') return `${code}: ${current.message}`;
    current = current.cause;
  }
  return err instanceof Error ? err.message : String(err);
}

function parseRetryAfter(value: string | null | undefined): number | undefined {
  if (!value) return undefined;
  if (/^\d+$/.test(value.trim())) return Number(value.trim()) * 1000;
  const at = Date.parse(value);
  return Number.isNaN(at) ? undefined : Math.max(0, at - Date.now());
}

/** The part of an error body worth showing. */
const MAX_DETAIL_CHARS = 300;

export interface ErrorBody {
  /** One line for `Server said:`: a JSON `error`/`message`, an S3 `Code: Message`, or the start of the text. */
  detail: string | undefined;
  /** The S3 error code (`<Code>` of an XML error body), when the server is S3-compatible. */
  s3Code: string | undefined;
  /** The S3 error message (`<Message>`). */
  s3Message: string | undefined;
}

/**
 * Reads a server's explanation from an error response, briefly; never fails. Understands the
 * vana-load services' `{ error }` JSON and S3's `<Error><Code/><Message/></Error>` XML.
 */
export async function readErrorBody(response: Response): Promise<ErrorBody> {
  let text: string;
  try {
    text = await response.text();
  } catch {
    return { detail: undefined, s3Code: undefined, s3Message: undefined };
  }
  return parseErrorBody(text);
}

/** `readErrorBody` on a body already read. */
export function parseErrorBody(text: string): ErrorBody {
  const s3Code = xmlElement(text, 'Code');
  const s3Message = xmlElement(text, 'Message');
  if (s3Code !== undefined) {
    const detail = s3Message ? `${s3Code}: ${s3Message}` : s3Code;
    return { detail: detail.slice(0, MAX_DETAIL_CHARS), s3Code, s3Message };
  }
  try {
    const body = JSON.parse(text) as { error?: unknown; message?: unknown };
    const reason = typeof body.error === 'string' ? body.error : typeof body.message === 'string' ? body.message : undefined;
    if (reason !== undefined) return { detail: reason.slice(0, MAX_DETAIL_CHARS), s3Code, s3Message };
  } catch {
    // Not JSON: fall through to the text itself.
  }
  const trimmed = text.trim();
  return { detail: trimmed ? trimmed.slice(0, MAX_DETAIL_CHARS) : undefined, s3Code, s3Message };
}

// S3 error bodies are flat and small; a regular expression reads them without an XML parser. Only
// the first `<Error>`'s direct text is wanted, and entities are decoded for the five XML ones.
function xmlElement(text: string, name: string): string | undefined {
  if (!/^\s*(<\?xml[^>]*\?>\s*)?<Error>/.test(text)) return undefined;
  const match = new RegExp(`<${name}>([^<]{0,${MAX_DETAIL_CHARS}})</${name}>`).exec(text);
  if (!match) return undefined;
  return match[1]!.replace(/&(lt|gt|amp|quot|apos);/g, (_, entity: string) => ({ lt: '<', gt: '>', amp: '&', quot: '"', apos: "'" })[entity]!);
}
