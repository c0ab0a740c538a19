/**
 * GETs a blob URL the way the personal server does: a plain unauthenticated `fetch`, nothing but
 * the URL. Every provider's `download` is this, so a URL that works here works for the server, and
 * a failure is classed the same whichever store answered.
 */
import type { Logger } from 'pino';
import { silentLogger } from '../logger.ts';
import { startDeadline } from '../util/deadlineSignal.ts';
import {
  readErrorBody,
  redactUrl,
  StorageError,
  storageRequestError,
  storageStatusError,
  type DownloadOptions,
  type ErrorBody,
} from './StorageProvider.ts';

export interface DownloadBlobParameters extends DownloadOptions {
  /** Deadline of the request (headers and body), ms. */
  timeoutMs: number;
  logger?: Logger;
}

/**
 * Downloads `url` and returns its bytes. Fails with a `StorageError`: the status errors of
 * `storageStatusError`, `STORAGE_URL_EXPIRED` (http_4xx) for a presigned URL past its expiry,
 * `STORAGE_TOO_LARGE` above `maxBytes`, and the timeout, abort and network errors of
 * `storageRequestError`. No message holds the URL's query (a presigned signature).
 *
 * @example
 * const bytes = await downloadBlob(url, { timeoutMs: 10_000, maxBytes: 1_048_576, step: 'verify' });
 */
export async function downloadBlob(url: string, { timeoutMs, logger = silentLogger(), signal, maxBytes, step }: DownloadBlobParameters): Promise<Uint8Array> {
  const deadline = startDeadline(timeoutMs, signal);
  const stepField = step ? { step } : {};
  try {
    const response = await fetch(url, { method: 'GET', signal: deadline.signal });
    if (response.status >= 300) {
      const body = await readErrorBody(response);
      const expiredAt = presignedExpiry(url);
      if (isExpiredAnswer(response.status, body, expiredAt)) throw urlExpired(url, response.status, body, expiredAt, step);
      throw storageStatusError({ operation: 'download', method: 'GET', url, status: response.status, detail: body.detail, retryAfter: response.headers.get('retry-after'), ...stepField });
    }
    const declared = Number(response.headers.get('content-length') ?? Number.NaN);
    if (maxBytes !== undefined && declared > maxBytes) {
      await response.body?.cancel();
      throw tooLarge(url, declared, maxBytes, step);
    }
    const bytes = new Uint8Array(await response.arrayBuffer());
    if (maxBytes !== undefined && bytes.byteLength > maxBytes) throw tooLarge(url, bytes.byteLength, maxBytes, step);
    return bytes;
  } catch (err) {
    const error = err instanceof StorageError ? err : storageRequestError({ operation: 'download', method: 'GET', url, cause: err, timeoutMs, ...stepField });
    logger.debug({ code: error.code, status: error.status, target: error.target }, 'download failed');
    throw error;
  } finally {
    deadline.clear();
  }
}

/**
 * When a SigV4 presigned URL stops working (`X-Amz-Date` + `X-Amz-Expires`), in epoch ms; undefined
 * for any other URL.
 */
export function presignedExpiry(url: string): number | undefined {
  let query: URLSearchParams;
  try {
    query = new URL(url).searchParams;
  } catch {
    return undefined;
  }
  const date = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/.exec(query.get('X-Amz-Date') ?? '');
  const expires = query.get('X-Amz-Expires');
  if (!date || expires === null || !/^\d{1,7}$/.test(expires)) return undefined;
  const [, y, mo, d, h, mi, s] = date.map(Number) as [number, number, number, number, number, number, number];
  return Date.UTC(y, mo - 1, d, h, mi, s) + Number(expires) * 1_000;
}

// AWS, MinIO and s3rver answer 403 AccessDenied "Request has expired"; R2 says ExpiredRequest,
// other stores RequestExpired, and a URL signed with temporary credentials that ran out gets
// ExpiredToken. A store that words it otherwise is still caught by the URL's own expiry, once past.
const EXPIRY_CODES = new Set(['ExpiredRequest', 'RequestExpired', 'ExpiredToken']);

function isExpiredAnswer(status: number, body: ErrorBody, expiredAt: number | undefined): boolean {
  if (status !== 400 && status !== 403) return false;
  if (body.s3Code === 'AccessDenied' && /expired/i.test(body.s3Message ?? '')) return true;
  if (body.s3Code !== undefined && EXPIRY_CODES.has(body.s3Code)) return true;
  return expiredAt !== undefined && Date.now() >= expiredAt;
}

function urlExpired(url: string, status: number, body: ErrorBody, expiredAt: number | undefined, step: DownloadOptions['step']): StorageError {
  const when = expiredAt !== undefined ? ` at ${new Date(expiredAt).toISOString()}` : '';
  const where = step ? ` (step ${step})` : '';
  return new StorageError(`Presigned URL expired${when}${where}, status ${status}: GET ${redactUrl(url)}`, {
    code: 'STORAGE_URL_EXPIRED',
    errorClass: 'http_4xx',
    operation: 'download',
    method: 'GET',
    url,
    status,
    ...(step ? { step } : {}),
    metaMessages: [
      ...(body.detail ? [`Server said: ${body.detail}`] : []),
      'Fix: raise VANA_S3_PRESIGN_EXPIRY (--s3-presign-expiry) above the longest time from upload to the last read.',
    ],
  });
}

function tooLarge(url: string, bytes: number, maxBytes: number, step: DownloadOptions['step']): StorageError {
  return new StorageError(`Download of ${bytes} bytes exceeds the ${maxBytes}-byte limit: GET ${redactUrl(url)}`, {
    code: 'STORAGE_TOO_LARGE',
    // The server answered fine; our own limit refused it.
    errorClass: 'other',
    operation: 'download',
    method: 'GET',
    url,
    ...(step ? { step } : {}),
  });
}
