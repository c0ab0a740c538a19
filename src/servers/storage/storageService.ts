/**
 * The storage service of the local stack (ARCHITECTURE.md 3): an in-memory, content-addressed
 * HTTP blob store. `PUT /files/:name` (or `POST /files?name=`) stores the raw body under its
 * sha256 and answers 201 `{ url, sha256, bytes }`; `GET /blobs/:sha256(/:name)` serves the bytes
 * to anyone (the personal server downloads from there, PROTOCOL.md 6).
 *
 * It sits in the hot path of every load test, so a request costs one hash and one Map lookup:
 * no request logging, no JSON schema, the parsed body buffer is stored as is. Memory is bounded:
 * past `maxStoredBytes` the least recently used blobs are evicted, and a GET of an evicted blob
 * answers 410 Gone (not 404), so a too-small store is told apart from a wrong URL.
 */
import { createHash } from 'node:crypto';
import Fastify, { type FastifyError, type FastifyReply, type FastifyRequest } from 'fastify';
import type { Logger } from 'pino';
import { ConfigError } from '../../errors.ts';
import { silentLogger } from '../../logger.ts';
import { blobNameProblem, MAX_BLOB_NAME_LENGTH } from '../../storage/StorageProvider.ts';

export interface StartStorageServiceParameters {
  /** Default `127.0.0.1`. */
  host?: string;
  /** Default 0: a free port. */
  port?: number;
  /** Largest accepted body; larger ones get 413. Default 1 MiB. */
  maxUploadBytes?: number;
  /** Bytes kept in memory before the least recently used blobs are evicted. Default 2 GiB. */
  maxStoredBytes?: number;
  /**
   * Base of the URLs handed out, when clients reach the service by another address than
   * `http://host:port` (a proxy, a container, a tunnel). Default `http://{host}:{port}`.
   */
  publicBaseUrl?: string;
  logger?: Logger;
}

export interface StorageServiceStats {
  /** Blobs held now. */
  files: number;
  /** Bytes held now. */
  bytes: number;
  /** Accepted uploads, duplicates included. */
  uploads: number;
  /** Uploads whose bytes were already held (stored once, same sha256). */
  duplicates: number;
  /** Blob GETs answered 200. */
  downloads: number;
  /** Blobs dropped to stay under `maxStoredBytes`. */
  evictions: number;
}

export interface StorageService {
  /** Public base URL (no trailing slash). */
  url: string;
  port: number;
  /** Closes the listener and idle keep-alive connections, then drops the blobs. Safe to call twice. */
  stop(): Promise<void>;
  stats(): StorageServiceStats;
}

const SHA256_HEX = /^[0-9a-f]{64}$/;
// Evicted hashes are remembered to answer 410 instead of 404; bounded too (about 150 B each).
const MAX_TOMBSTONES = 1_000_000;

/**
 * Starts the storage service. Fails with a `ConfigError` on bad limits or a bad `publicBaseUrl`,
 * before binding anything.
 *
 * @example
 * const storage = await startStorageService({ maxUploadBytes: 10 * 1024 ** 2 });
 * const res = await fetch(`${storage.url}/files/data.bin`, { method: 'PUT', body: bytes });
 * const { url } = await res.json(); // `${storage.url}/blobs/<sha256>/data.bin`
 * await storage.stop();
 */
export async function startStorageService({
  host = '127.0.0.1',
  port = 0,
  maxUploadBytes = 1_048_576,
  maxStoredBytes = 2 * 1_024 ** 3,
  publicBaseUrl,
  logger = silentLogger(),
}: StartStorageServiceParameters = {}): Promise<StorageService> {
  if (!Number.isSafeInteger(maxUploadBytes) || maxUploadBytes < 1) {
    throw new ConfigError(`Expected maxUploadBytes as a positive integer, got ${maxUploadBytes}`, { code: 'STORAGE_BAD_CONFIG' });
  }
  if (!Number.isSafeInteger(maxStoredBytes) || maxStoredBytes < maxUploadBytes) {
    throw new ConfigError(`Expected maxStoredBytes as an integer >= maxUploadBytes (${maxUploadBytes}), got ${maxStoredBytes}`, {
      code: 'STORAGE_BAD_CONFIG',
    });
  }
  if (publicBaseUrl !== undefined && !/^https?:\/\/[^/?#]+(\/[^?#]*)?$/.test(publicBaseUrl)) {
    throw new ConfigError(`Expected publicBaseUrl as an http(s) URL without query, got ${JSON.stringify(publicBaseUrl)}`, {
      code: 'STORAGE_BAD_CONFIG',
    });
  }
  const log = logger.child({ module: 'storageService' });
  const store = createBlobStore(maxStoredBytes);
  let uploads = 0;
  let downloads = 0;

  const app = Fastify({
    // No fastify logger, hence no per-request log lines: at thousands of requests per second
    // they would cost more than the routes. Failures go to `log` from the error handler.
    logger: false,
    bodyLimit: maxUploadBytes,
    return503OnClosing: true,
    // find-my-way's default (100) would answer long names with a bare 414; let the name check
    // answer instead, naming the field.
    routerOptions: { maxParamLength: 16_384 },
  });

  // Every body is opaque bytes, whatever its content type (JSON grant files included).
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', { parseAs: 'buffer' }, (_request, body, done) => done(null, body));

  app.setErrorHandler((err: FastifyError, request, reply) => {
    const status = err.statusCode !== undefined && err.statusCode >= 400 ? err.statusCode : 500;
    const message = err.code === 'FST_ERR_CTP_BODY_TOO_LARGE' ? `Body exceeds the ${maxUploadBytes}-byte limit` : err.message;
    if (status >= 500) log.error({ err, url: request.url }, 'request failed');
    void reply.status(status).send({ error: message });
  });
  app.setNotFoundHandler((request, reply) => {
    void reply.status(404).send({ error: `No route ${request.method} ${request.url}` });
  });

  let base = '';

  function accept(request: FastifyRequest, reply: FastifyReply, name: unknown): { url: string; sha256: string; bytes: number } | { error: string } {
    let suffix = '';
    if (name !== undefined) {
      const problem = blobNameProblem(name);
      if (problem) {
        void reply.status(400);
        return { error: `name: ${problem}` };
      }
      suffix = `/${String(name)}`;
    }
    // No body at all (content-length 0) is an empty blob, which is still content.
    const body = Buffer.isBuffer(request.body) ? request.body : Buffer.alloc(0);
    const sha256 = createHash('sha256').update(body).digest('hex');
    store.put(sha256, body);
    uploads++;
    void reply.status(201);
    return { url: `${base}/blobs/${sha256}${suffix}`, sha256, bytes: body.byteLength };
  }

  app.put<{ Params: { name: string } }>('/files/:name', async (request, reply) => accept(request, reply, request.params.name));
  // Without this, `PUT /files/` would be a 404 "no route" instead of a 400 naming the field.
  app.put('/files/', async (request, reply) => accept(request, reply, ''));
  // `?name=a&name=b` parses to an array: handed on as is, so the name check rejects it.
  app.post<{ Querystring: { name?: unknown } }>('/files', async (request, reply) => accept(request, reply, request.query.name));

  function serve(reply: FastifyReply, sha256: string, name: string | undefined, ifNoneMatch: string | undefined): void {
    const fail = (status: number, error: string): void => void reply.status(status).send({ error });
    if (!SHA256_HEX.test(sha256)) return fail(400, `sha256: Expected 64 lowercase hex characters, got ${JSON.stringify(sha256.slice(0, 80))}`);
    // The name is a label (the same bytes are served under any name), but a bad one is still bad input.
    const problem = name === undefined ? undefined : blobNameProblem(name);
    if (problem) return fail(400, `name: ${problem}`);
    const blob = store.get(sha256);
    if (blob === 'evicted') return fail(410, `Blob ${sha256} was evicted to keep the store under ${maxStoredBytes} bytes; raise maxStoredBytes`);
    if (blob === undefined) return fail(404, `No blob ${sha256}`);
    const etag = `"${sha256}"`;
    // Content-addressed: the bytes behind a hash never change, so caches may keep them forever.
    void reply.header('etag', etag).header('cache-control', 'public, max-age=31536000, immutable');
    if (ifNoneMatch === etag) return void reply.status(304).send();
    downloads++;
    void reply.header('content-type', 'application/octet-stream').send(blob);
  }


  // Synchronous handlers that return nothing: a sync handler's return value is sent again,
  // and re-sending a sent reply builds a warning error (with a stack) per request.
  app.get<{ Params: { sha256: string } }>('/blobs/:sha256', (request, reply) => {
    serve(reply, request.params.sha256, undefined, request.headers['if-none-match']);
  });
  app.get<{ Params: { sha256: string; name: string } }>('/blobs/:sha256/:name', (request, reply) => {
    serve(reply, request.params.sha256, request.params.name, request.headers['if-none-match']);
  });

  app.get('/health', async () => ({ status: 'ok', ...store.stats(), maxUploadBytes, maxStoredBytes }));

  await app.listen({ host, port });
  const address = app.server.address();
  const actualPort = typeof address === 'object' && address !== null ? address.port : port;
  base = (publicBaseUrl ?? `http://${urlHost(host)}:${actualPort}`).replace(/\/+$/, '');
  log.info({ url: base, maxUploadBytes, maxStoredBytes, maxNameLength: MAX_BLOB_NAME_LENGTH }, 'storage service listening');

  let closing: Promise<void> | undefined;
  return {
    url: base,
    port: actualPort,
    stop: () =>
      (closing ??= app.close().then(() => {
        store.clear();
      })),
    stats: () => ({ ...store.stats(), uploads, downloads }),
  };
}

/** A wildcard bind address is not something a client can connect to; IPv6 needs brackets. */
function urlHost(host: string): string {
  if (host === '0.0.0.0') return '127.0.0.1';
  if (host === '::') return '[::1]';
  return host.includes(':') ? `[${host}]` : host;
}

interface BlobStore {
  put(sha256: string, bytes: Buffer): void;
  /** The bytes, `'evicted'` if they were held once and dropped, or undefined if never seen. */
  get(sha256: string): Buffer | 'evicted' | undefined;
  stats(): { files: number; bytes: number; duplicates: number; evictions: number };
  clear(): void;
}

/** A Map in least-recently-used order (re-inserting moves a key to the young end), capped in bytes. */
function createBlobStore(maxStoredBytes: number): BlobStore {
  const blobs = new Map<string, Buffer>();
  const tombstones = new Set<string>();
  let storedBytes = 0;
  let duplicates = 0;
  let evictions = 0;

  function evictUntilFits(): void {
    while (storedBytes > maxStoredBytes) {
      const oldest = blobs.entries().next();
      if (oldest.done) return;
      const [sha256, bytes] = oldest.value;
      blobs.delete(sha256);
      storedBytes -= bytes.byteLength;
      evictions++;
      tombstones.add(sha256);
      if (tombstones.size > MAX_TOMBSTONES) tombstones.delete(tombstones.values().next().value as string);
    }
  }

  return {
    put(sha256, bytes) {
      const held = blobs.get(sha256);
      if (held !== undefined) {
        duplicates++;
        blobs.delete(sha256);
        blobs.set(sha256, held);
        return;
      }
      // Bodies under 4 KiB come from Node's shared 8 KiB allocation pool: keeping such a view
      // would pin the whole slab and make `bytes` under-count memory. Copy those out.
      let own = bytes;
      if (bytes.byteLength !== bytes.buffer.byteLength) {
        own = Buffer.allocUnsafeSlow(bytes.byteLength);
        bytes.copy(own);
      }
      tombstones.delete(sha256);
      blobs.set(sha256, own);
      storedBytes += own.byteLength;
      evictUntilFits();
    },
    get(sha256) {
      const held = blobs.get(sha256);
      if (held === undefined) return tombstones.has(sha256) ? 'evicted' : undefined;
      blobs.delete(sha256);
      blobs.set(sha256, held);
      return held;
    },
    stats: () => ({ files: blobs.size, bytes: storedBytes, duplicates, evictions }),
    clear() {
      blobs.clear();
      tombstones.clear();
      storedBytes = 0;
    },
  };
}
