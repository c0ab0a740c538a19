/**
 * The `local` storage provider: uploads to a vana-load storage service (the local stack's, or a
 * remote one given by `VANA_STORAGE_URL`) with `PUT {baseUrl}/files/{name}`, and returns the
 * permanent public URL the service answers with.
 *
 * Uploads go through `httpRequest` (node:http with a keep-alive agent shared by every flow, much
 * lighter per pending request than `fetch`: see src/client/httpRequest.ts); downloads through
 * `downloadBlob` (fetch), which no flow of the harness waits on.
 */
import type { Logger } from 'pino';
import { VanaLoadError } from '../errors.ts';
import { silentLogger } from '../logger.ts';
import { downloadBlob } from './downloadBlob.ts';
import {
  checkUploadInput,
  parseErrorBody,
  StorageError,
  storageRequestError,
  storageStatusError,
  type DownloadOptions,
  type StorageProvider,
  type UploadOptions,
  type UploadResult,
} from './StorageProvider.ts';
import { startDeadline } from '../util/deadlineSignal.ts';
import { headerValue, httpRequest, type HttpResponse } from '../client/httpRequest.ts';

export interface CreateLocalStorageProviderParameters {
  /** Base URL of the storage service, e.g. `http://127.0.0.1:3002`. */
  baseUrl: string;
  /** Deadline of one request (headers and body), ms. Default 30_000. */
  timeoutMs?: number;
  logger?: Logger;
}

/**
 * Creates the `local` provider. Checks its parameters at once; makes no request until used.
 *
 * @example
 * const storage = createLocalStorageProvider({ baseUrl: manifest.storageUrl, timeoutMs: 10_000 });
 * const { url } = await storage.upload(encrypted, `data_${tag}.bin`, { step: 'upload_data' });
 */
export function createLocalStorageProvider({
  baseUrl,
  timeoutMs = 30_000,
  logger = silentLogger(),
}: CreateLocalStorageProviderParameters): StorageProvider {
  let parsed: URL | undefined;
  try {
    parsed = new URL(baseUrl);
  } catch {
    parsed = undefined;
  }
  if (parsed === undefined || (parsed.protocol !== 'http:' && parsed.protocol !== 'https:')) {
    throw new VanaLoadError(`Expected baseUrl as an http(s) URL, got ${JSON.stringify(baseUrl)}`, { code: 'STORAGE_BAD_INPUT' });
  }
  if (!Number.isSafeInteger(timeoutMs) || timeoutMs < 1) {
    throw new VanaLoadError(`Expected timeoutMs as a positive integer, got ${timeoutMs}`, { code: 'STORAGE_BAD_INPUT' });
  }
  const base = baseUrl.replace(/\/+$/, '');
  const log = logger.child({ module: 'localStorage' });

  return {
    kind: 'local',

    async upload(bytes: Uint8Array, name: string, options: UploadOptions = {}): Promise<UploadResult> {
      checkUploadInput(bytes, name);
      // The name rule keeps names URL-safe, so no escaping is needed (or possible to get wrong).
      const url = `${base}/files/${name}`;
      const deadline = startDeadline(timeoutMs, options.signal);
      const step = options.step ? { step: options.step } : {};
      let response: HttpResponse;
      try {
        // The whole answer is read before this returns: a read cut short (deadline, reset) is
        // classed as timeout or network here; only a body that arrived whole but is not JSON is a bad response.
        response = await httpRequest({ method: 'PUT', url, headers: { 'content-type': options.contentType ?? 'application/octet-stream' }, body: bytes, signal: deadline.signal });
      } catch (err) {
        const error = storageRequestError({ operation: 'upload', method: 'PUT', url, cause: err, timeoutMs, ...step });
        log.debug({ code: error.code, status: error.status, target: error.target }, 'upload failed');
        throw error;
      } finally {
        deadline.clear();
      }
      const { status, text } = response;
      if (status >= 300) {
        const { detail } = parseErrorBody(text);
        const error = storageStatusError({ operation: 'upload', method: 'PUT', url, status, detail, retryAfter: headerValue(response.headers, 'retry-after'), ...step });
        log.debug({ code: error.code, status: error.status, target: error.target }, 'upload failed');
        throw error;
      }
      let body: unknown;
      try {
        body = JSON.parse(text);
      } catch (cause) {
        throw badResponse(url, status, 'a body that is not JSON', options.step, cause);
      }
      const { url: blobUrl, bytes: stored } = (body ?? {}) as { url?: unknown; bytes?: unknown };
      if (typeof blobUrl !== 'string' || typeof stored !== 'number') {
        throw badResponse(url, status, 'no { url, bytes } body', options.step);
      }
      if (stored !== bytes.byteLength) {
        throw new StorageError(`Upload stored ${stored} bytes, sent ${bytes.byteLength}: PUT ${url}`, {
          code: 'STORAGE_SIZE_MISMATCH',
          errorClass: 'integrity',
          operation: 'upload',
          method: 'PUT',
          url,
          status,
          ...(options.step ? { step: options.step } : {}),
        });
      }
      return { url: blobUrl, bytes: stored };
    },

    async download(url: string, options: DownloadOptions = {}): Promise<Uint8Array> {
      return await downloadBlob(url, { ...options, timeoutMs, logger: log });
    },
  };
}

function badResponse(url: string, status: number, what: string, step: UploadOptions['step'], cause?: unknown): StorageError {
  return new StorageError(`Upload got status ${status} with ${what}: PUT ${url}`, {
    code: 'STORAGE_BAD_RESPONSE',
    errorClass: 'other',
    operation: 'upload',
    method: 'PUT',
    url,
    status,
    ...(step ? { step } : {}),
    cause,
  });
}
