import { createHash, randomBytes } from 'node:crypto';
import { request } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConfigError } from '../../errors.ts';
import { startStorageService, type StorageService } from './storageService.ts';

const sha256 = (bytes: Uint8Array): string => createHash('sha256').update(bytes).digest('hex');

async function put(base: string, name: string, body: Uint8Array | string, headers: Record<string, string> = {}): Promise<{ status: number; body: unknown }> {
  const response = await fetch(`${base}/files/${name}`, { method: 'PUT', body, headers });
  return { status: response.status, body: await response.json() };
}

/** A PUT whose path is sent exactly as given (no URL normalization). */
async function rawPut(port: number, path: string, body: string): Promise<{ status: number; body: unknown }> {
  return await new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, method: 'PUT', headers: { 'content-length': Buffer.byteLength(body) } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: JSON.parse(Buffer.concat(chunks).toString('utf8')) as unknown }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(body);
  });
}

const NAME_RULE = 'Expected 1-200 characters of A-Z a-z 0-9 . _ - (not "." or "..")';

describe('startStorageService', () => {
  let storage: StorageService;
  beforeAll(async () => {
    storage = await startStorageService({ port: 0, maxUploadBytes: 1_024 });
  });
  afterAll(async () => {
    await storage.stop();
  });

  it('stores a PUT body under its sha256 and serves the same bytes back', async () => {
    const bytes = randomBytes(1_000);
    const hash = sha256(bytes);
    const uploaded = await put(storage.url, 'data_1.bin', bytes);
    expect(uploaded).toEqual({ status: 201, body: { url: `${storage.url}/blobs/${hash}/data_1.bin`, sha256: hash, bytes: 1_000 } });

    const response = await fetch(`${storage.url}/blobs/${hash}/data_1.bin`);
    expect([response.status, response.headers.get('content-type'), response.headers.get('etag'), response.headers.get('content-length')]).toEqual([
      200,
      'application/octet-stream',
      `"${hash}"`,
      '1000',
    ]);
    expect(Buffer.from(await response.arrayBuffer()).equals(bytes)).toBe(true);
  });

  it('answers the same URL for the same bytes and name, and holds them once', async () => {
    const service = await startStorageService({ port: 0 });
    try {
      const bytes = randomBytes(300);
      const first = await put(service.url, 'grant.json', bytes);
      const second = await put(service.url, 'grant.json', bytes);
      expect(second).toEqual(first);
      // The name is a label: the bytes are held once whatever they are called.
      const renamed = await put(service.url, 'other.json', bytes);
      expect((renamed.body as { sha256: string }).sha256).toBe(sha256(bytes));
      expect(service.stats()).toEqual({ files: 1, bytes: 300, uploads: 3, duplicates: 2, downloads: 0, evictions: 0 });
    } finally {
      await service.stop();
    }
  });

  it('stores a POST body without a name under /blobs/<sha256> and serves it there', async () => {
    const bytes = randomBytes(64);
    const hash = sha256(bytes);
    const response = await fetch(`${storage.url}/files`, { method: 'POST', body: bytes });
    expect([response.status, await response.json()]).toEqual([201, { url: `${storage.url}/blobs/${hash}`, sha256: hash, bytes: 64 }]);
    const served = await fetch(`${storage.url}/blobs/${hash}`);
    expect(Buffer.from(await served.arrayBuffer()).equals(bytes)).toBe(true);
  });

  it('stores a POST body under ?name= with the name in the URL', async () => {
    const bytes = randomBytes(8);
    const response = await fetch(`${storage.url}/files?name=x.bin`, { method: 'POST', body: bytes });
    expect(((await response.json()) as { url: string }).url).toBe(`${storage.url}/blobs/${sha256(bytes)}/x.bin`);
  });

  it('stores any content type as raw bytes, invalid JSON included', async () => {
    const uploaded = await put(storage.url, 'grant.json', '{not json', { 'content-type': 'application/json' });
    const hash = sha256(Buffer.from('{not json'));
    expect(uploaded).toEqual({ status: 201, body: { url: `${storage.url}/blobs/${hash}/grant.json`, sha256: hash, bytes: 9 } });
    expect(await (await fetch(`${storage.url}/blobs/${hash}`)).text()).toBe('{not json');
  });

  it('stores an empty body as the empty blob', async () => {
    const response = await fetch(`${storage.url}/files/empty.bin`, { method: 'PUT' });
    expect([response.status, ((await response.json()) as { sha256: string }).sha256]).toEqual([
      201,
      'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855',
    ]);
  });

  it('accepts a body of exactly maxUploadBytes', async () => {
    expect((await put(storage.url, 'edge.bin', randomBytes(1_024))).status).toBe(201);
  });

  it('answers 304 to a matching If-None-Match', async () => {
    const bytes = randomBytes(16);
    await put(storage.url, 'etag.bin', bytes);
    const response = await fetch(`${storage.url}/blobs/${sha256(bytes)}`, { headers: { 'if-none-match': `"${sha256(bytes)}"` } });
    expect(response.status).toBe(304);
  });

  it('reports its counters on /health', async () => {
    const response = await fetch(`${storage.url}/health`);
    const body = (await response.json()) as Record<string, unknown>;
    expect([response.status, body.status, body.maxUploadBytes, body.maxStoredBytes]).toEqual([200, 'ok', 1_024, 2 * 1_024 ** 3]);
  });

  it('error: answers 413 with a JSON error to a body above maxUploadBytes, and keeps serving', async () => {
    expect(await put(storage.url, 'big.bin', randomBytes(1_025))).toEqual({ status: 413, body: { error: 'Body exceeds the 1024-byte limit' } });
    // Far above the limit: refused from content-length, without buffering the body.
    expect(await put(storage.url, 'huge.bin', new Uint8Array(8_000_000))).toEqual({ status: 413, body: { error: 'Body exceeds the 1024-byte limit' } });
    expect((await put(storage.url, 'after.bin', randomBytes(10))).status).toBe(201);
  });

  it.each([
    ['a path traversal', '..%2F..%2Fetc%2Fpasswd', `${NAME_RULE}, got "../../etc/passwd"`],
    ['a name over 200 characters', 'a'.repeat(201), `${NAME_RULE}, got 201 characters`],
    ['an empty name', '', `${NAME_RULE}, got an empty name`],
    ['a space', 'a%20b', `${NAME_RULE}, got "a b"`],
  ])('error: answers 400 naming the field for %s', async (_what, name, problem) => {
    expect(await put(storage.url, name, randomBytes(4))).toEqual({ status: 400, body: { error: `name: ${problem}` } });
  });

  // fetch normalizes `..` segments away before sending, so these go out byte for byte.
  it.each([
    ['/files/..', '..'],
    ['/files/%2E%2E', '..'],
    ['/files/.', '.'],
  ])('error: answers 400 naming the field for the raw path %s', async (path, name) => {
    expect(await rawPut(storage.port, path, 'x')).toEqual({ status: 400, body: { error: `name: ${NAME_RULE}, got ${JSON.stringify(name)}` } });
  });

  it('error: answers 400 naming the field for several ?name= values', async () => {
    const response = await fetch(`${storage.url}/files?name=a&name=b`, { method: 'POST', body: randomBytes(4) });
    expect([response.status, await response.json()]).toEqual([400, { error: `name: ${NAME_RULE}, got several names` }]);
  });

  it('error: answers 400 naming the field for a malformed sha256', async () => {
    const response = await fetch(`${storage.url}/blobs/ABC`);
    expect([response.status, await response.json()]).toEqual([400, { error: 'sha256: Expected 64 lowercase hex characters, got "ABC"' }]);
  });

  it('error: answers 404 for a blob it never held', async () => {
    const hash = 'f'.repeat(64);
    const response = await fetch(`${storage.url}/blobs/${hash}/x.bin`);
    expect([response.status, await response.json()]).toEqual([404, { error: `No blob ${hash}` }]);
  });

  it('error: answers 404 naming the route for an unknown path', async () => {
    const response = await fetch(`${storage.url}/nope`);
    expect([response.status, await response.json()]).toEqual([404, { error: 'No route GET /nope' }]);
  });
});

describe('startStorageService with a byte cap', () => {
  let storage: StorageService;
  beforeAll(async () => {
    storage = await startStorageService({ port: 0, maxUploadBytes: 1_000, maxStoredBytes: 2_000 });
  });
  afterAll(async () => {
    await storage.stop();
  });

  it('error: evicts the least recently used blob past maxStoredBytes and answers 410 Gone for it', async () => {
    const [a, b, c] = [randomBytes(1_000), randomBytes(1_000), randomBytes(1_000)];
    await put(storage.url, 'a.bin', a);
    await put(storage.url, 'b.bin', b);
    expect((await fetch(`${storage.url}/blobs/${sha256(a)}`)).status).toBe(200); // a is now the most recent
    await put(storage.url, 'c.bin', c);

    const gone = await fetch(`${storage.url}/blobs/${sha256(b)}/b.bin`);
    expect([gone.status, await gone.json()]).toEqual([
      410,
      { error: `Blob ${sha256(b)} was evicted to keep the store under 2000 bytes; raise maxStoredBytes` },
    ]);
    expect([(await fetch(`${storage.url}/blobs/${sha256(a)}`)).status, (await fetch(`${storage.url}/blobs/${sha256(c)}`)).status]).toEqual([200, 200]);
    expect(storage.stats()).toEqual({ files: 2, bytes: 2_000, uploads: 3, duplicates: 0, downloads: 3, evictions: 1 });

    // Uploading evicted bytes again brings them back under the same URL.
    expect((await put(storage.url, 'b.bin', b)).body).toEqual({ url: `${storage.url}/blobs/${sha256(b)}/b.bin`, sha256: sha256(b), bytes: 1_000 });
    expect((await fetch(`${storage.url}/blobs/${sha256(b)}/b.bin`)).status).toBe(200);
  });
});

describe('startStorageService options', () => {
  it('hands out URLs under publicBaseUrl', async () => {
    const storage = await startStorageService({ port: 0, publicBaseUrl: 'https://files.example.org/vana/' });
    try {
      const bytes = randomBytes(4);
      expect((await put(`http://127.0.0.1:${storage.port}`, 'x.bin', bytes)).body).toEqual({
        url: `https://files.example.org/vana/blobs/${sha256(bytes)}/x.bin`,
        sha256: sha256(bytes),
        bytes: 4,
      });
      expect(storage.url).toBe('https://files.example.org/vana');
    } finally {
      await storage.stop();
    }
  });

  it('stops once when stop is called twice', async () => {
    const storage = await startStorageService({ port: 0 });
    await Promise.all([storage.stop(), storage.stop()]);
    await expect(fetch(`http://127.0.0.1:${storage.port}/health`)).rejects.toThrow('fetch failed');
  });

  it('error: refuses maxStoredBytes below maxUploadBytes before binding', async () => {
    const err = await startStorageService({ maxUploadBytes: 2_048, maxStoredBytes: 1_024 }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ConfigError);
    expect([(err as ConfigError).code, (err as ConfigError).message]).toEqual([
      'STORAGE_BAD_CONFIG',
      'Expected maxStoredBytes as an integer >= maxUploadBytes (2048), got 1024',
    ]);
  });

  it('error: refuses a publicBaseUrl that is not an http(s) URL', async () => {
    const err = await startStorageService({ publicBaseUrl: 'ftp://x' }).catch((e: unknown) => e);
    expect((err as ConfigError).message).toBe('Expected publicBaseUrl as an http(s) URL without query, got "ftp://x"');
  });
});
