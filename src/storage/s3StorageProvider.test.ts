import { randomBytes } from 'node:crypto';
import { getEventListeners } from 'node:events';
import type { createServer, Server } from 'node:http';
import { inspect } from 'node:util';
import { Writable } from 'node:stream';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { VanaLoadError } from '../errors.ts';
import { freePort } from '../util/freePort.ts';
import { startS3Server, type S3Server } from '../servers/storage/s3Server.ts';
import { presignedExpiry } from './downloadBlob.ts';
import { createS3StorageProvider, type CreateS3StorageProviderParameters } from './s3StorageProvider.ts';
import { StorageError } from './StorageProvider.ts';
import { closeRawServer, startRawServer, storageError } from './testSupport.ts';

const SECRET = 'test-Secret-Key/never+in+output';
const BUCKET = 'vana-load-test';

/** Everything an error could show: message, context lines, target, and its cause chain in depth. */
function everythingShown(err: StorageError): string {
  return [err.message, err.target, ...err.metaMessages, inspect(err, { depth: 8 })].join('\n');
}

function s3Xml(code: string, message: string): string {
  return `<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>${code}</Code><Message>${message}</Message><RequestId>r1</RequestId></Error>`;
}

describe('createS3StorageProvider', () => {
  let s3: S3Server;
  const rawServers: Server[] = [];
  const logLines: string[] = [];
  const logger = pino(
    { level: 'debug' },
    new Writable({
      write(chunk: Buffer, _encoding, done) {
        logLines.push(chunk.toString());
        done();
      },
    }),
  );

  function provider(overrides: Partial<CreateS3StorageProviderParameters> = {}) {
    return createS3StorageProvider({
      endpoint: s3.endpoint,
      region: s3.region,
      bucket: s3.bucket,
      accessKeyId: s3.accessKeyId,
      secretAccessKey: s3.secretAccessKey,
      timeoutMs: 5_000,
      logger,
      ...overrides,
    });
  }

  async function rawServer(handler: Parameters<typeof createServer>[1]): Promise<string> {
    const { url, server } = await startRawServer(handler);
    rawServers.push(server);
    return url;
  }

  beforeAll(async () => {
    s3 = await startS3Server({ bucket: BUCKET, accessKeyId: 'VANALOADTEST', secretAccessKey: SECRET });
  });
  afterAll(async () => {
    await s3.stop();
    for (const server of rawServers) await closeRawServer(server);
  });

  it('uploads bytes and returns a presigned URL that a plain unauthenticated fetch reads back', async () => {
    const storage = provider({ presignExpiryMs: 600_000 });
    const bytes = randomBytes(2_048);
    const before = Date.now();
    const result = await storage.upload(bytes, 'data_a1.bin');
    const after = Date.now();

    expect(storage.kind).toBe('s3');
    expect(result.bytes).toBe(2_048);
    const url = new URL(result.url);
    expect(`${url.origin}${url.pathname}`).toBe(`${s3.endpoint}/${BUCKET}/data_a1.bin`);
    expect([url.searchParams.get('X-Amz-Expires'), url.searchParams.get('X-Amz-Credential')?.split('/')[0]]).toEqual(['600', 'VANALOADTEST']);
    expect(result.expiresAt).toBe(presignedExpiry(result.url));
    // X-Amz-Date has whole seconds: the URL is signed in the second that started at most 1 s before.
    expect(result.expiresAt! - (before - 1_000)).toBeGreaterThan(600_000);
    expect(result.expiresAt! - after).toBeLessThanOrEqual(600_000);

    const response = await fetch(result.url);
    expect(response.status).toBe(200);
    expect(Buffer.from(await response.arrayBuffer()).equals(bytes)).toBe(true);
    expect(Buffer.from(await storage.download(result.url)).equals(bytes)).toBe(true);
  });

  it('stores the content type given, application/octet-stream by default', async () => {
    const storage = provider();
    const grant = await storage.upload(new TextEncoder().encode('{"grantee":"0x1"}'), 'grant_1.json', { contentType: 'application/json' });
    const data = await storage.upload(new Uint8Array([1, 2, 3]), 'data_ct.bin');
    const [grantType, dataType] = await Promise.all([grant.url, data.url].map(async (url) => (await fetch(url)).headers.get('content-type')));
    expect([grantType, dataType]).toEqual(['application/json', 'application/octet-stream']);
  });

  it('puts the object under the key prefix', async () => {
    const storage = provider({ keyPrefix: 'runs/r-1/' });
    const { url } = await storage.upload(new Uint8Array([7]), 'data_p.bin');
    expect(new URL(url).pathname).toBe(`/${BUCKET}/runs/r-1/data_p.bin`);
    expect(await storage.download(url)).toEqual(new Uint8Array([7]));
  });

  it('round-trips a 1 MiB object', async () => {
    const storage = provider();
    const bytes = randomBytes(1_048_576);
    const { url, bytes: stored } = await storage.upload(bytes, 'data_1mib.bin');
    expect(stored).toBe(1_048_576);
    expect(Buffer.from(await storage.download(url, { maxBytes: 1_048_576 })).equals(bytes)).toBe(true);
  });

  it('leaves no listener on a long-lived caller signal after its uploads', async () => {
    const storage = provider();
    const root = new AbortController();
    for (let i = 0; i < 3; i++) await storage.upload(new Uint8Array([i]), `data_l${i}.bin`, { signal: root.signal });
    expect(getEventListeners(root.signal, 'abort')).toHaveLength(0);
  });

  it('error: refuses a name that breaks the blob-name rule before any request', async () => {
    // Nothing listens on this endpoint: a request would fail with STORAGE_UNREACHABLE instead.
    const storage = provider({ endpoint: `http://127.0.0.1:${await freePort()}` });
    for (const name of ['../etc/passwd', 'a/b.bin', 'a b.bin', '']) {
      const err = await storage.upload(new Uint8Array([1]), name).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(VanaLoadError);
      expect((err as VanaLoadError).code).toBe('STORAGE_BAD_NAME');
    }
  });

  it('error: a presigned URL past its expiry fails with STORAGE_URL_EXPIRED (http_4xx) naming the step', async () => {
    const storage = provider({ presignExpiryMs: 1_000 });
    const { url, expiresAt } = await storage.upload(new Uint8Array([1, 2]), 'data_exp.bin');
    expect(await storage.download(url)).toEqual(new Uint8Array([1, 2]));
    await new Promise((resolve) => setTimeout(resolve, expiresAt! - Date.now() + 50));

    const err = await storageError(() => storage.download(url, { step: 'inference_wait' }));
    const at = new Date(expiresAt!).toISOString();
    expect([err.code, err.errorClass, err.step, err.status, err.shortMessage, err.metaMessages]).toEqual([
      'STORAGE_URL_EXPIRED',
      'http_4xx',
      'inference_wait',
      403,
      `Presigned URL expired at ${at} (step inference_wait), status 403: GET ${s3.endpoint}/${BUCKET}/data_exp.bin?…`,
      [
        'Server said: AccessDenied: Request has expired',
        'Fix: raise VANA_S3_PRESIGN_EXPIRY (--s3-presign-expiry) above the longest time from upload to the last read.',
      ],
    ]);
    expect(everythingShown(err)).not.toContain('X-Amz-Signature');
  });

  it('error: a presigned URL altered on the way is refused (STORAGE_REJECTED), not taken for expired', async () => {
    const storage = provider();
    const { url } = await storage.upload(new Uint8Array([1]), 'data_alt.bin');
    const err = await storageError(() => storage.download(url.replace('data_alt.bin', 'data_other.bin')));
    expect([err.code, err.errorClass, err.status, err.metaMessages[0]]).toEqual([
      'STORAGE_REJECTED',
      'http_4xx',
      403,
      'Server said: SignatureDoesNotMatch: The request signature we calculated does not match the signature you provided. Check your key and signing method.',
    ]);
  });

  it('error: upload to a missing bucket raises STORAGE_NO_SUCH_BUCKET (http_4xx) naming bucket and key', async () => {
    const err = await storageError(() => provider({ bucket: 'no-such-bucket' }).upload(new Uint8Array([1]), 'data_nb.bin', { step: 'upload_data' }));
    expect([err.code, err.errorClass, err.status, err.step, err.shortMessage, err.metaMessages]).toEqual([
      'STORAGE_NO_SUCH_BUCKET',
      'http_4xx',
      404,
      'upload_data',
      `Upload failed with status 404 (NoSuchBucket): PUT ${s3.endpoint}/no-such-bucket/data_nb.bin`,
      [
        'Server said: NoSuchBucket: The specified bucket does not exist',
        'Bucket: no-such-bucket',
        'Key: data_nb.bin',
        'Fix: create bucket "no-such-bucket", or name another with VANA_S3_BUCKET (--s3-bucket).',
      ],
    ]);
  });

  it('error: a wrong secret or an unknown key id raises STORAGE_ACCESS_DENIED (http_4xx) without the secret', async () => {
    const wrongSecret = await storageError(() => provider({ secretAccessKey: `${SECRET}-wrong` }).upload(new Uint8Array([1]), 'data_ws.bin'));
    const unknownKey = await storageError(() => provider({ accessKeyId: 'NOSUCHKEY' }).upload(new Uint8Array([1]), 'data_uk.bin'));
    expect([wrongSecret.code, wrongSecret.errorClass, wrongSecret.status, wrongSecret.shortMessage]).toEqual([
      'STORAGE_ACCESS_DENIED',
      'http_4xx',
      403,
      `Upload failed with status 403 (SignatureDoesNotMatch): PUT ${s3.endpoint}/${BUCKET}/data_ws.bin`,
    ]);
    expect([unknownKey.code, unknownKey.errorClass, unknownKey.status, unknownKey.metaMessages.at(-1)]).toEqual([
      'STORAGE_ACCESS_DENIED',
      'http_4xx',
      403,
      'Fix: check AWS_ACCESS_KEY_ID (--s3-access-key-id): the store does not know this key id.',
    ]);
    for (const err of [wrongSecret, unknownKey]) expect(everythingShown(err)).not.toContain(SECRET);
  });

  it('error: a region other than the bucket’s raises STORAGE_WRONG_REGION', async () => {
    const err = await storageError(() => provider({ region: 'eu-west-1' }).upload(new Uint8Array([1]), 'data_rg.bin'));
    expect([err.code, err.errorClass, err.status]).toEqual(['STORAGE_WRONG_REGION', 'http_4xx', 400]);
  });

  it('error: raises STORAGE_UNREACHABLE (network) when nothing listens', async () => {
    const endpoint = `http://127.0.0.1:${await freePort()}`;
    const err = await storageError(() => provider({ endpoint }).upload(new Uint8Array([1]), 'data_cr.bin'));
    expect([err.code, err.errorClass, err.message]).toEqual([
      'STORAGE_UNREACHABLE',
      'network',
      `Upload failed (ECONNREFUSED: connect ECONNREFUSED ${endpoint.slice('http://'.length)}): PUT ${endpoint}/${BUCKET}/data_cr.bin`,
    ]);
  });

  it('error: raises STORAGE_ABORTED (timeout) when the caller aborts, before or during the upload', async () => {
    const storage = provider();
    const early = await storageError(() => storage.upload(new Uint8Array([1]), 'data_ab0.bin', { signal: AbortSignal.abort() }));
    const controller = new AbortController();
    const pending = storage.upload(randomBytes(1_048_576), 'data_ab1.bin', { signal: controller.signal });
    setTimeout(() => controller.abort(), 1);
    const during = await storageError(() => pending);
    for (const err of [early, during]) {
      expect([err.code, err.errorClass, err.message]).toEqual(['STORAGE_ABORTED', 'timeout', `Upload aborted: PUT ${s3.endpoint}/${BUCKET}/${err === early ? 'data_ab0.bin' : 'data_ab1.bin'}`]);
    }
  });

  it('error: raises STORAGE_TIMEOUT (timeout) when the store does not answer in time', async () => {
    const endpoint = await rawServer((req) => req.resume());
    const err = await storageError(() => provider({ endpoint, timeoutMs: 200 }).upload(new Uint8Array([1]), 'data_to.bin'));
    expect([err.code, err.errorClass, err.message]).toEqual(['STORAGE_TIMEOUT', 'timeout', `Upload timed out after 200 ms: PUT ${endpoint}/${BUCKET}/data_to.bin`]);
  });

  it('error: SlowDown is rate_limited and InternalError http_5xx', async () => {
    const endpoint = await rawServer((req, res) => {
      req.resume();
      const slow = req.url?.includes('slow');
      res
        .writeHead(slow ? 503 : 500, { 'content-type': 'application/xml', ...(slow ? { 'retry-after': '2' } : {}) })
        .end(slow ? s3Xml('SlowDown', 'Please reduce your request rate.') : s3Xml('InternalError', 'We encountered an internal error. Please try again.'));
    });
    const storage = provider({ endpoint });
    const slow = await storageError(() => storage.upload(new Uint8Array([1]), 'data_slow.bin'));
    const internal = await storageError(() => storage.upload(new Uint8Array([1]), 'data_500.bin'));
    expect([slow.code, slow.errorClass, slow.status, slow.retryAfterMs, internal.code, internal.errorClass, internal.status]).toEqual([
      'STORAGE_RATE_LIMITED',
      'rate_limited',
      503,
      2_000,
      'STORAGE_SERVER_ERROR',
      'http_5xx',
      500,
    ]);
  });

  it('never puts the secret or a presigned signature in an error, a result target or a log line', async () => {
    const storage = provider({ presignExpiryMs: 1_000 });
    const { url } = await storage.upload(new Uint8Array([1]), 'data_log.bin');
    await new Promise((resolve) => setTimeout(resolve, 1_100));
    const errors = [
      await storageError(() => storage.download(url)),
      await storageError(() => storage.download(url.replace(/X-Amz-Signature=[0-9a-f]/, 'X-Amz-Signature=x'))),
      await storageError(() => provider({ secretAccessKey: 'wrong-secret' }).upload(new Uint8Array([1]), 'data_log2.bin')),
      await storageError(() => provider({ bucket: 'no-such-bucket' }).upload(new Uint8Array([1]), 'data_log3.bin')),
    ];
    const shown = [...errors.map(everythingShown), ...logLines].join('\n');
    expect(logLines.length).toBeGreaterThan(0);
    expect(shown).not.toContain(SECRET);
    expect(shown).not.toMatch(/X-Amz-Signature|X-Amz-Credential/);
  });

  it('error: refuses bad parameters at once, without echoing the secret', () => {
    const base = { region: 'us-east-1', bucket: BUCKET, accessKeyId: 'AK', secretAccessKey: SECRET };
    const cases: Array<[Partial<CreateS3StorageProviderParameters>, string]> = [
      [{ bucket: 'My_Bucket' }, 'Expected bucket as an S3 bucket name (3-63 characters: lowercase letters, digits, dots, hyphens), got "My_Bucket"'],
      [{ endpoint: 'http://user:pw@127.0.0.1:9000' }, 'Expected endpoint as an http(s) URL without query or credentials, got "http://…@127.0.0.1:9000"'],
      [{ presignExpiryMs: 999 }, 'Expected presignExpiryMs as an integer from 1_000 to 604800000 (7 days, the S3 limit), got 999'],
      [{ keyPrefix: 'runs/../x/' }, `Expected keyPrefix as '' or segments of A-Z a-z 0-9 . _ - each ending in '/' (not "." or ".."), at most 512 characters, got "runs/../x/"`],
      [{ secretAccessKey: `${SECRET} with spaces` }, 'Expected secretAccessKey as 1-256 characters without spaces'],
    ];
    for (const [override, message] of cases) {
      expect(() => createS3StorageProvider({ ...base, ...override })).toThrow(message);
    }
  });
});
