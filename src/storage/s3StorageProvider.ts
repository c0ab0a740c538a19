/**
 * The `s3` storage provider: PUTs each file to an object in a bucket of any S3-compatible store
 * (AWS S3, Cloudflare R2, GCS's interoperability API, MinIO, the local stack's s3rver) with the
 * AWS SDK, and hands out a presigned GET URL, which anyone can fetch without credentials until it
 * expires: the personal server downloads the file through it (PROTOCOL.md 6).
 *
 * One `S3Client` per provider, on a keep-alive agent without a socket cap (concurrency is the load
 * model's to set, not the pool's). The SDK's own retries are off: a retried upload would hide a
 * failure and stretch the step's latency; the flow's retry policy decides instead, as for `local`.
 * Checksums only where an operation requires them: the SDK's default CRC32 headers are refused by
 * several S3-compatible stores.
 */
import { GetObjectCommand, PutObjectCommand, S3Client, S3ServiceException } from '@aws-sdk/client-s3';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import type { Logger } from 'pino';
import { VanaLoadError } from '../errors.ts';
import { type ErrorClass } from '../flow.ts';
import { silentLogger } from '../logger.ts';
import { startDeadline } from '../util/deadlineSignal.ts';
import { downloadBlob } from './downloadBlob.ts';
import {
  checkUploadInput,
  errorClassOfStatus,
  StorageError,
  storageCodeOfStatus,
  storageRequestError,
  type DownloadOptions,
  type StorageProvider,
  type UploadOptions,
  type UploadResult,
} from './StorageProvider.ts';

export interface CreateS3StorageProviderParameters {
  /** S3-compatible endpoint, e.g. `https://<account>.r2.cloudflarestorage.com`; unset = AWS S3 for `region`. */
  endpoint?: string;
  /** Region the requests are signed for (`auto` for R2). */
  region: string;
  bucket: string;
  accessKeyId: string;
  /** Signs requests and URLs; never logged, never in an error. */
  secretAccessKey: string;
  /**
   * Path-style addressing (`{endpoint}/{bucket}/{key}`) instead of virtual-hosted
   * (`{bucket}.{host}/{key}`): MinIO, s3rver and most self-hosted stores need it. Default: true
   * when `endpoint` is set, false for AWS.
   */
  forcePathStyle?: boolean;
  /** Lifetime of the presigned GET URLs, ms, from 1 s to 7 days; URLs count whole seconds (rounded down). Default 3_600_000. */
  presignExpiryMs?: number;
  /** Deadline of one upload request (headers and body), ms. Default 30_000. */
  timeoutMs?: number;
  /** Prepended to every blob name to form the object key, e.g. `runs/2024-06-01/`. Default ''. */
  keyPrefix?: string;
  logger?: Logger;
}

const BUCKET_NAME = /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/;
const REGION = /^[a-z0-9-]{2,32}$/;
// Segments of blob-name characters, each ending in '/': keys stay URL-safe without escaping.
const KEY_PREFIX = /^([A-Za-z0-9._-]+\/)*$/;
const MAX_KEY_PREFIX_LENGTH = 512;
const MAX_PRESIGN_EXPIRY_MS = 7 * 86_400_000;

/** What S3's error codes mean for the harness; codes not listed are classed by their status. */
const S3_ERRORS: Readonly<Record<string, { code: string; errorClass?: ErrorClass; fix: (bucket: string, key: string) => string }>> = {
  NoSuchBucket: { code: 'STORAGE_NO_SUCH_BUCKET', fix: (bucket) => `create bucket "${bucket}", or name another with VANA_S3_BUCKET (--s3-bucket).` },
  InvalidAccessKeyId: { code: 'STORAGE_ACCESS_DENIED', fix: () => 'check AWS_ACCESS_KEY_ID (--s3-access-key-id): the store does not know this key id.' },
  SignatureDoesNotMatch: { code: 'STORAGE_ACCESS_DENIED', fix: () => 'check AWS_SECRET_ACCESS_KEY (--s3-secret-access-key): it does not belong to AWS_ACCESS_KEY_ID.' },
  AccessDenied: { code: 'STORAGE_ACCESS_DENIED', fix: (bucket, key) => `give the key s3:PutObject and s3:GetObject on ${bucket}/${key}.` },
  AllAccessDisabled: { code: 'STORAGE_ACCESS_DENIED', fix: (bucket) => `access to bucket "${bucket}" is disabled; use another bucket.` },
  ExpiredToken: { code: 'STORAGE_ACCESS_DENIED', fix: () => 'the credentials have expired; issue new ones.' },
  InvalidToken: { code: 'STORAGE_ACCESS_DENIED', fix: () => 'check the credentials: the store refused their token.' },
  AuthorizationHeaderMalformed: { code: 'STORAGE_WRONG_REGION', fix: () => "set AWS_REGION (--s3-region) to the bucket's region (R2: auto)." },
  PermanentRedirect: { code: 'STORAGE_WRONG_REGION', fix: () => "set AWS_REGION (--s3-region) to the bucket's region, or VANA_S3_ENDPOINT to its endpoint." },
  RequestTimeTooSkewed: { code: 'STORAGE_CLOCK_SKEW', fix: () => "this machine's clock is more than 15 minutes off; synchronise it." },
  EntityTooLarge: { code: 'STORAGE_TOO_LARGE', fix: () => 'upload less: the store refuses objects this large.' },
  SlowDown: { code: 'STORAGE_RATE_LIMITED', errorClass: 'rate_limited', fix: () => 'lower the upload rate, or spread keys over more prefixes.' },
};

/**
 * Creates the `s3` provider. Checks its parameters at once; makes no request until used.
 *
 * @example
 * const storage = createS3StorageProvider({ endpoint: 'http://127.0.0.1:4569', region: 'us-east-1',
 *   bucket: 'vana-load', accessKeyId, secretAccessKey, presignExpiryMs: 3_600_000 });
 * const { url, expiresAt } = await storage.upload(encrypted, `data_${tag}.bin`, { step: 'upload_data' });
 */
export function createS3StorageProvider({
  endpoint,
  region,
  bucket,
  accessKeyId,
  secretAccessKey,
  forcePathStyle = endpoint !== undefined,
  presignExpiryMs = 3_600_000,
  timeoutMs = 30_000,
  keyPrefix = '',
  logger = silentLogger(),
}: CreateS3StorageProviderParameters): StorageProvider {
  const base = endpoint === undefined ? undefined : parseEndpoint(endpoint);
  const bad = (message: string): VanaLoadError => new VanaLoadError(message, { code: 'STORAGE_BAD_INPUT' });
  if (typeof region !== 'string' || !REGION.test(region)) throw bad(`Expected region such as us-east-1 or auto, got ${JSON.stringify(region)}`);
  if (typeof bucket !== 'string' || !BUCKET_NAME.test(bucket)) {
    throw bad(`Expected bucket as an S3 bucket name (3-63 characters: lowercase letters, digits, dots, hyphens), got ${JSON.stringify(bucket)}`);
  }
  if (typeof accessKeyId !== 'string' || !/^\S{1,128}$/.test(accessKeyId)) throw bad(`Expected accessKeyId as 1-128 characters without spaces, got ${JSON.stringify(accessKeyId)}`);
  // The secret is never echoed, not even when malformed.
  if (typeof secretAccessKey !== 'string' || !/^\S{1,256}$/.test(secretAccessKey)) throw bad('Expected secretAccessKey as 1-256 characters without spaces');
  if (!Number.isSafeInteger(presignExpiryMs) || presignExpiryMs < 1_000 || presignExpiryMs > MAX_PRESIGN_EXPIRY_MS) {
    throw bad(`Expected presignExpiryMs as an integer from 1_000 to ${MAX_PRESIGN_EXPIRY_MS} (7 days, the S3 limit), got ${presignExpiryMs}`);
  }
  if (!Number.isSafeInteger(timeoutMs) || timeoutMs < 1) throw bad(`Expected timeoutMs as a positive integer, got ${timeoutMs}`);
  if (typeof keyPrefix !== 'string' || keyPrefix.length > MAX_KEY_PREFIX_LENGTH || !KEY_PREFIX.test(keyPrefix) || /(^|\/)\.\.?\//.test(keyPrefix)) {
    throw bad(`Expected keyPrefix as '' or segments of A-Z a-z 0-9 . _ - each ending in '/' (not "." or ".."), at most ${MAX_KEY_PREFIX_LENGTH} characters, got ${JSON.stringify(keyPrefix)}`);
  }

  const log = logger.child({ module: 's3Storage' });
  const expiresInS = Math.floor(presignExpiryMs / 1_000);
  const client = new S3Client({
    region,
    ...(base ? { endpoint: base.href } : {}),
    forcePathStyle,
    credentials: { accessKeyId, secretAccessKey },
    maxAttempts: 1,
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
    requestHandler: {
      httpAgent: { keepAlive: true, maxSockets: Number.POSITIVE_INFINITY },
      httpsAgent: { keepAlive: true, maxSockets: Number.POSITIVE_INFINITY },
    },
  });

  /** Where an object lives, for messages: the same origin and path as its presigned URL. */
  function objectUrl(key: string): string {
    if (base === undefined) {
      return forcePathStyle ? `https://s3.${region}.amazonaws.com/${bucket}/${key}` : `https://${bucket}.s3.${region}.amazonaws.com/${key}`;
    }
    const path = base.pathname.replace(/\/+$/, '');
    return forcePathStyle ? `${base.origin}${path}/${bucket}/${key}` : `${base.protocol}//${bucket}.${base.host}${path}/${key}`;
  }

  return {
    kind: 's3',

    async upload(bytes: Uint8Array, name: string, options: UploadOptions = {}): Promise<UploadResult> {
      checkUploadInput(bytes, name);
      const key = `${keyPrefix}${name}`;
      const target = objectUrl(key);
      const step = options.step ? { step: options.step } : {};
      const deadline = startDeadline(timeoutMs, options.signal);
      try {
        const put = new PutObjectCommand({ Bucket: bucket, Key: key, Body: bytes, ContentLength: bytes.byteLength, ContentType: options.contentType ?? 'application/octet-stream' });
        await client.send(put, { abortSignal: deadline.signal });
      } catch (err) {
        const error =
          err instanceof S3ServiceException && err.$metadata.httpStatusCode !== undefined
            ? s3ServiceError(err, err.$metadata.httpStatusCode, { bucket, key, url: target, step: options.step })
            : storageRequestError({
                operation: 'upload',
                method: 'PUT',
                url: target,
                // The SDK names every abort `AbortError`; our deadline knows whether it was the timeout.
                cause: deadline.timedOut() ? deadline.signal.reason : err,
                timeoutMs,
                ...step,
              });
        log.debug({ code: error.code, status: error.status, target: error.target }, 'upload failed');
        throw error;
      } finally {
        deadline.clear();
      }
      // Signed locally (no request): the URL's X-Amz-Date is this second, so it expires at
      // that second plus the lifetime.
      const signingDate = new Date(Math.floor(Date.now() / 1_000) * 1_000);
      let url: string;
      try {
        url = await getSignedUrl(client, new GetObjectCommand({ Bucket: bucket, Key: key }), { expiresIn: expiresInS, signingDate });
      } catch (err) {
        throw new StorageError(`Presigning failed: GET ${target}`, { code: 'STORAGE_PRESIGN_FAILED', errorClass: 'other', operation: 'upload', method: 'GET', url: target, cause: err, ...step });
      }
      return { url, bytes: bytes.byteLength, expiresAt: signingDate.getTime() + expiresInS * 1_000 };
    },

    async download(url: string, options: DownloadOptions = {}): Promise<Uint8Array> {
      return await downloadBlob(url, { ...options, timeoutMs, logger: log });
    },
  };
}

function parseEndpoint(endpoint: string): URL {
  let parsed: URL | undefined;
  try {
    parsed = new URL(endpoint);
  } catch {
    parsed = undefined;
  }
  if (parsed === undefined || (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') || parsed.search !== '' || parsed.username !== '' || parsed.password !== '') {
    throw new VanaLoadError(`Expected endpoint as an http(s) URL without query or credentials, got ${JSON.stringify(redactEndpoint(endpoint))}`, { code: 'STORAGE_BAD_INPUT' });
  }
  return parsed;
}

// An endpoint is not a secret, but one pasted with `user:pass@` would be.
function redactEndpoint(endpoint: string): string {
  return endpoint.replace(/\/\/[^/@]*@/, '//…@').replace(/\?.*$/, '?…');
}

interface ObjectContext {
  bucket: string;
  key: string;
  url: string;
  step: UploadOptions['step'];
}

/** An error answer from the store, classed by its S3 code (`NoSuchBucket`, `SlowDown`, …) or else its status. */
function s3ServiceError(err: S3ServiceException, status: number, { bucket, key, url, step }: ObjectContext): StorageError {
  const known = S3_ERRORS[err.name];
  const retryAfter = err.$response?.headers['retry-after'];
  const retryAfterMs = retryAfter !== undefined && /^\d+$/.test(retryAfter) ? Number(retryAfter) * 1_000 : undefined;
  const said = err.message && err.message !== err.name && err.message !== 'UnknownError' ? `${err.name}: ${err.message}` : err.name;
  return new StorageError(`Upload failed with status ${status} (${err.name}): PUT ${url}`, {
    code: known?.code ?? storageCodeOfStatus(status),
    errorClass: known?.errorClass ?? errorClassOfStatus(status),
    operation: 'upload',
    method: 'PUT',
    url,
    status,
    ...(retryAfterMs !== undefined ? { retryAfterMs } : {}),
    ...(step ? { step } : {}),
    metaMessages: [
      `Server said: ${said.slice(0, 300)}`,
      `Bucket: ${bucket}`,
      `Key: ${key}`,
      ...(known ? [`Fix: ${known.fix(bucket, key)}`] : []),
      ...(retryAfterMs !== undefined ? [`Retry after: ${retryAfterMs} ms`] : []),
    ],
    cause: err,
  });
}
