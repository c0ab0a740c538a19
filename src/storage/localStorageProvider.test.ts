import { randomBytes } from 'node:crypto';
import { getEventListeners } from 'node:events';
import { createServer, type Server } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { VanaLoadError } from '../errors.ts';
import { freePort } from '../util/freePort.ts';
import { startStorageService, type StorageService } from '../servers/storage/storageService.ts';
import { createLocalStorageProvider } from './localStorageProvider.ts';
import { type StorageProvider } from './StorageProvider.ts';
import { closeRawServer, startRawServer, storageError } from './testSupport.ts';

describe('createLocalStorageProvider', () => {
  let service: StorageService;
  let storage: StorageProvider;
  const rawServers: Server[] = [];

  beforeAll(async () => {
    service = await startStorageService({ port: 0, maxUploadBytes: 1_024, maxStoredBytes: 2_048 });
    storage = createLocalStorageProvider({ baseUrl: `${service.url}/`, timeoutMs: 5_000 });
  });
  afterAll(async () => {
    await service.stop();
    for (const server of rawServers) await closeRawServer(server);
  });

  async function rawServer(handler: Parameters<typeof createServer>[1]): Promise<string> {
    const { url, server } = await startRawServer(handler);
    rawServers.push(server);
    return url;
  }

  it('uploads bytes and returns a public URL that serves the same bytes', async () => {
    const bytes = randomBytes(1_000);
    const result = await storage.upload(bytes, 'data_a1.bin');
    expect(result).toEqual({ url: expect.stringMatching(new RegExp(`^${service.url}/blobs/[0-9a-f]{64}/data_a1\\.bin$`)), bytes: 1_000 });
    expect(storage.kind).toBe('local');

    // Public: a plain GET with no credentials, as the personal server does it.
    const response = await fetch(result.url);
    expect(Buffer.from(await response.arrayBuffer()).equals(bytes)).toBe(true);
    expect(Buffer.from(await storage.download(result.url)).equals(bytes)).toBe(true);
  });

  it('returns the same URL for the same content uploaded twice', async () => {
    const bytes = randomBytes(200);
    const first = await storage.upload(bytes, 'grant_same.json', { contentType: 'application/json' });
    const second = await storage.upload(Uint8Array.from(bytes), 'grant_same.json', { contentType: 'application/json' });
    expect(second).toEqual(first);
  });

  it('error: raises STORAGE_TOO_LARGE (http_4xx) naming the operation and target above the upload limit', async () => {
    const err = await storageError(() => storage.upload(randomBytes(1_025), 'big.bin', { step: 'upload_data' }));
    expect({ code: err.code, errorClass: err.errorClass, status: err.status, step: err.step, message: err.message }).toEqual({
      code: 'STORAGE_TOO_LARGE',
      errorClass: 'http_4xx',
      status: 413,
      step: 'upload_data',
      message: [
        `Upload failed with status 413: PUT ${service.url}/files/big.bin`,
        '',
        'Server said: Body exceeds the 1024-byte limit',
        'Fix: upload less, or raise the store limit (local stack: --max-upload).',
      ].join('\n'),
    });
  });

  it('error: rejects a bad name before sending anything', async () => {
    const before = service.stats().uploads;
    const err = await storage.upload(randomBytes(4), '../escape').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(VanaLoadError);
    expect([(err as VanaLoadError).code, (err as VanaLoadError).message]).toEqual([
      'STORAGE_BAD_NAME',
      'Invalid blob name: Expected 1-200 characters of A-Z a-z 0-9 . _ - (not "." or ".."), got "../escape"',
    ]);
    expect(service.stats().uploads).toBe(before);
  });

  it('error: raises STORAGE_REJECTED (http_4xx) with the server reason for a 400', async () => {
    const err = await storageError(() => storage.download(`${service.url}/blobs/not-a-hash`));
    expect([err.code, err.errorClass, err.status, err.message]).toEqual([
      'STORAGE_REJECTED',
      'http_4xx',
      400,
      `Download failed with status 400: GET ${service.url}/blobs/not-a-hash\n\nServer said: sha256: Expected 64 lowercase hex characters, got "not-a-hash"`,
    ]);
  });

  it('error: raises STORAGE_NOT_FOUND (http_4xx) for an unknown blob', async () => {
    const url = `${service.url}/blobs/${'0'.repeat(64)}`;
    const err = await storageError(() => storage.download(url));
    expect([err.code, err.errorClass, err.status, err.shortMessage]).toEqual(['STORAGE_NOT_FOUND', 'http_4xx', 404, `Download failed with status 404: GET ${url}`]);
  });

  it('error: raises STORAGE_GONE (http_4xx) for an evicted blob', async () => {
    const first = await storage.upload(randomBytes(1_000), 'evict_1.bin');
    await storage.upload(randomBytes(1_000), 'evict_2.bin');
    await storage.upload(randomBytes(1_000), 'evict_3.bin');
    const err = await storageError(() => storage.download(first.url));
    expect([err.code, err.errorClass, err.status]).toEqual(['STORAGE_GONE', 'http_4xx', 410]);
  });

  it('error: raises STORAGE_UNREACHABLE (network) when nothing listens', async () => {
    const port = await freePort();
    const offline = createLocalStorageProvider({ baseUrl: `http://127.0.0.1:${port}`, timeoutMs: 5_000 });
    const err = await storageError(() => offline.upload(randomBytes(4), 'x.bin'));
    expect([err.code, err.errorClass, err.status, err.message]).toEqual([
      'STORAGE_UNREACHABLE',
      'network',
      undefined,
      `Upload failed (ECONNREFUSED: connect ECONNREFUSED 127.0.0.1:${port}): PUT http://127.0.0.1:${port}/files/x.bin`,
    ]);
  });

  it('error: raises STORAGE_TIMEOUT (timeout) when the server does not answer in time', async () => {
    const url = await rawServer((req) => req.resume()); // reads the body, never answers
    const slow = createLocalStorageProvider({ baseUrl: url, timeoutMs: 100 });
    const err = await storageError(() => slow.upload(randomBytes(4), 'slow.bin'));
    expect([err.code, err.errorClass, err.message]).toEqual(['STORAGE_TIMEOUT', 'timeout', `Upload timed out after 100 ms: PUT ${url}/files/slow.bin`]);
  });

  it('error: raises STORAGE_ABORTED (timeout) when the caller aborts', async () => {
    const url = await rawServer((req) => req.resume());
    const slow = createLocalStorageProvider({ baseUrl: url, timeoutMs: 5_000 });
    const controller = new AbortController();
    setTimeout(() => controller.abort(), 50);
    const err = await storageError(() => slow.upload(randomBytes(4), 'abort.bin', { signal: controller.signal }));
    expect([err.code, err.errorClass, err.message]).toEqual(['STORAGE_ABORTED', 'timeout', `Upload aborted: PUT ${url}/files/abort.bin`]);
  });

  it('error: raises STORAGE_ABORTED without sending when the caller signal is already aborted', async () => {
    const before = service.stats().uploads;
    const err = await storageError(() => storage.upload(randomBytes(4), 'pre.bin', { signal: AbortSignal.abort() }));
    expect([err.code, err.errorClass, service.stats().uploads]).toEqual(['STORAGE_ABORTED', 'timeout', before]);
  });

  it('leaves no listener on a long-lived caller signal after its uploads', async () => {
    const root = new AbortController();
    await Promise.all([1, 2, 3].map((i) => storage.upload(randomBytes(8), `root_${i}.bin`, { signal: root.signal })));
    await storage.upload(randomBytes(2_000), 'root_big.bin', { signal: root.signal }).catch(() => undefined); // a 413
    expect(getEventListeners(root.signal, 'abort')).toEqual([]);
  });

  it('error: raises rate_limited with Retry-After for a 429', async () => {
    const url = await rawServer((req, res) => {
      req.resume();
      res.writeHead(429, { 'retry-after': '2', 'content-type': 'application/json' }).end('{"error":"slow down"}');
    });
    const err = await storageError(() => createLocalStorageProvider({ baseUrl: url }).upload(randomBytes(4), 'x.bin'));
    expect([err.code, err.errorClass, err.status, err.retryAfterMs, err.message]).toEqual([
      'STORAGE_RATE_LIMITED',
      'rate_limited',
      429,
      2_000,
      `Upload failed with status 429: PUT ${url}/files/x.bin\n\nServer said: slow down\nRetry after: 2000 ms`,
    ]);
  });

  it('error: raises STORAGE_SERVER_ERROR (http_5xx) for a 503 with a text body', async () => {
    const url = await rawServer((req, res) => {
      req.resume();
      res.writeHead(503).end('maintenance');
    });
    const err = await storageError(() => createLocalStorageProvider({ baseUrl: url }).upload(randomBytes(4), 'x.bin'));
    expect([err.code, err.errorClass, err.status, err.message]).toEqual([
      'STORAGE_SERVER_ERROR',
      'http_5xx',
      503,
      `Upload failed with status 503: PUT ${url}/files/x.bin\n\nServer said: maintenance`,
    ]);
  });

  it('error: raises STORAGE_BAD_RESPONSE when a 201 carries no { url, bytes }', async () => {
    const url = await rawServer((req, res) => {
      req.resume();
      res.writeHead(201, { 'content-type': 'application/json' }).end('{"ok":true}');
    });
    const err = await storageError(() => createLocalStorageProvider({ baseUrl: url }).upload(randomBytes(4), 'x.bin'));
    expect([err.code, err.errorClass, err.message]).toEqual(['STORAGE_BAD_RESPONSE', 'other', `Upload got status 201 with no { url, bytes } body: PUT ${url}/files/x.bin`]);
  });

  it('error: raises STORAGE_SIZE_MISMATCH (integrity) when the store reports other bytes than sent', async () => {
    const url = await rawServer((req, res) => {
      req.resume();
      res.writeHead(201, { 'content-type': 'application/json' }).end(JSON.stringify({ url: 'http://x/blobs/y', bytes: 3 }));
    });
    const err = await storageError(() => createLocalStorageProvider({ baseUrl: url }).upload(randomBytes(4), 'x.bin'));
    expect([err.code, err.errorClass, err.message]).toEqual(['STORAGE_SIZE_MISMATCH', 'integrity', `Upload stored 3 bytes, sent 4: PUT ${url}/files/x.bin`]);
  });

  it('error: refuses a download above maxBytes', async () => {
    const { url } = await storage.upload(randomBytes(100), 'cap.bin');
    const err = await storageError(() => storage.download(url, { maxBytes: 99 }));
    expect([err.code, err.errorClass, err.message]).toEqual(['STORAGE_TOO_LARGE', 'other', `Download of 100 bytes exceeds the 99-byte limit: GET ${url}`]);
  });

  it('error: refuses a baseUrl that is not an http(s) URL', () => {
    expect(() => createLocalStorageProvider({ baseUrl: 'localhost:3002' })).toThrow('Expected baseUrl as an http(s) URL, got "localhost:3002"');
  });
});
