/**
 * A local S3-compatible server for tests and for `--storage-provider s3` on the local stack: npm
 * `s3rver` (objects on disk, S3's REST API and XML errors) behind a gate that does what s3rver
 * leaves out and a real bucket does not: it checks every request's SigV4 signature against one
 * key pair and one region (`verifySigV4`), presigned URLs' expiry included, and refuses anonymous
 * requests as a private bucket would. A presigned GET URL that works here is therefore one that
 * would work on AWS, and a wrong secret fails here as it would there.
 *
 * Paths are bucket-first (path-style addressing): the server answers on an IP or a plain host name.
 */
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Logger } from 'pino';
import S3rver from 's3rver';
import { ConfigError, InfrastructureError } from '../../errors.ts';
import { silentLogger } from '../../logger.ts';
import { verifySigV4, type SigV4Refusal } from './verifySigV4.ts';

export interface StartS3ServerParameters {
  /** Default 0: a free port. */
  port?: number;
  /** Default `127.0.0.1`. */
  host?: string;
  /** Created at start (and kept if the directory already holds it). */
  bucket: string;
  /** Where objects are stored; kept on stop. Default: a new temporary directory, removed on stop. */
  directory?: string;
  /** Default `S3RVER`. */
  accessKeyId?: string;
  /** Default `S3RVER`. */
  secretAccessKey?: string;
  /** The region requests must be signed for. Default `us-east-1`. */
  region?: string;
  logger?: Logger;
}

export interface S3Server {
  /** `http://host:port`, for the S3 client's `endpoint` (path-style). */
  endpoint: string;
  port: number;
  bucket: string;
  region: string;
  accessKeyId: string;
  secretAccessKey: string;
  /** Where the objects are, as files. */
  directory: string;
  /** Closes the listener and its connections, then removes a temporary directory. Safe to call twice. */
  stop(): Promise<void>;
}

const BUCKET_NAME = /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/;
const KEY_TEXT = /^[\x21-\x7e]{1,256}$/;

/**
 * Starts the server and creates `bucket`. Fails with a `ConfigError` on bad parameters (before
 * anything is created) and an `InfrastructureError` when it cannot listen.
 *
 * @example
 * const s3 = await startS3Server({ bucket: 'vana-load' });
 * const storage = createS3StorageProvider({ endpoint: s3.endpoint, region: s3.region, bucket: s3.bucket,
 *   accessKeyId: s3.accessKeyId, secretAccessKey: s3.secretAccessKey });
 * await s3.stop();
 */
export async function startS3Server({
  port = 0,
  host = '127.0.0.1',
  bucket,
  directory,
  accessKeyId = 'S3RVER',
  secretAccessKey = 'S3RVER',
  region = 'us-east-1',
  logger = silentLogger(),
}: StartS3ServerParameters): Promise<S3Server> {
  if (typeof bucket !== 'string' || !BUCKET_NAME.test(bucket)) {
    throw new ConfigError(`Expected bucket as an S3 bucket name (3-63 characters: lowercase letters, digits, dots, hyphens), got ${JSON.stringify(bucket)}`, {
      code: 'S3_SERVER_BAD_CONFIG',
    });
  }
  if (!Number.isSafeInteger(port) || port < 0 || port > 65_535) {
    throw new ConfigError(`Expected port as an integer in [0, 65535], got ${port}`, { code: 'S3_SERVER_BAD_CONFIG' });
  }
  if (!KEY_TEXT.test(accessKeyId) || accessKeyId.includes('/')) {
    throw new ConfigError(`Expected accessKeyId as 1-256 printable characters without spaces or '/', got ${JSON.stringify(accessKeyId)}`, {
      code: 'S3_SERVER_BAD_CONFIG',
    });
  }
  if (!KEY_TEXT.test(secretAccessKey)) {
    throw new ConfigError('Expected secretAccessKey as 1-256 printable characters without spaces', { code: 'S3_SERVER_BAD_CONFIG' });
  }
  if (!/^[a-z0-9-]{2,32}$/.test(region)) throw new ConfigError(`Expected region such as us-east-1, got ${JSON.stringify(region)}`, { code: 'S3_SERVER_BAD_CONFIG' });

  const log = logger.child({ module: 's3Server' });
  const ownsDirectory = directory === undefined;
  const root = directory ?? (await mkdtemp(join(tmpdir(), 'vana-load-s3-')));
  // s3rver's own request log is off (silent); refusals and server errors are logged here.
  const s3rver = new S3rver({ directory: root, silent: true, vhostBuckets: false, configureBuckets: [{ name: bucket }] });
  s3rver.on('error', (err: Error & { code?: unknown; status?: unknown }) => log.debug({ code: err.code, status: err.status, err: err.message }, 'S3 error answer'));
  const handle = s3rver.callback();
  const credentials = { accessKeyId, secretAccessKey, region };

  const server = createServer((req, res) => {
    const verdict = verifySigV4({ method: req.method ?? 'GET', url: req.url ?? '/', headers: req.headers }, credentials);
    if (verdict.kind === 'refused' || verdict.kind === 'anonymous') {
      const refusal = verdict.kind === 'refused' ? verdict.refusal : { status: 403, code: 'AccessDenied', message: 'Access Denied' };
      log.debug({ method: req.method, path: pathOf(req), code: refusal.code }, 'request refused');
      answerError(req, res, refusal);
      return;
    }
    // Verified here; s3rver, which would check the key id against its own fixed list, sees an
    // anonymous request (it serves those without checks).
    if (verdict.form === 'header') delete req.headers.authorization;
    else req.url = withoutAuthQuery(req.url ?? '/');
    handle(req, res);
  });

  const closeLogger = (): void => {
    s3rver.logger.exceptions.unhandle();
    s3rver.logger.close();
  };
  let boundPort: number;
  try {
    if (!ownsDirectory) await mkdir(root, { recursive: true });
    await s3rver.configureBuckets();
    boundPort = await new Promise<number>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, host, () => {
        server.off('error', reject);
        const address = server.address();
        if (address === null || typeof address === 'string') reject(new Error(`Expected a TCP address, got ${String(address)}`));
        else resolve(address.port);
      });
    });
  } catch (err) {
    closeLogger();
    if (ownsDirectory) await rm(root, { recursive: true, force: true });
    throw new InfrastructureError(`cannot start the local S3 server on ${host}:${port}: ${err instanceof Error ? err.message : String(err)}`, {
      code: 'S3_SERVER_START_FAILED',
      cause: err,
    });
  }

  const endpoint = `http://${host.includes(':') ? `[${host}]` : host}:${boundPort}`;
  log.debug({ endpoint, bucket, directory: root }, 'S3 server listening');
  let stopping: Promise<void> | undefined;
  return {
    endpoint,
    port: boundPort,
    bucket,
    region,
    accessKeyId,
    secretAccessKey,
    directory: root,
    stop: () =>
      (stopping ??= (async () => {
        const closed = new Promise<void>((resolve) => server.close(() => resolve()));
        // close() waits for open connections; keep-alive sockets of a client that is not closed yet would hold it.
        server.closeAllConnections();
        await closed;
        closeLogger();
        if (ownsDirectory) await rm(root, { recursive: true, force: true });
      })()),
  };
}

/** Answers with S3's XML error body. */
function answerError(req: IncomingMessage, res: ServerResponse, refusal: SigV4Refusal): void {
  // The body of a refused PUT is read and dropped, so the connection stays usable.
  req.resume();
  const extra = Object.entries(refusal.detail ?? {})
    .map(([name, value]) => `<${name}>${xmlEscape(value)}</${name}>`)
    .join('');
  const body = `<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>${refusal.code}</Code><Message>${xmlEscape(refusal.message)}</Message>${extra}</Error>`;
  res.writeHead(refusal.status, { 'content-type': 'application/xml', 'content-length': Buffer.byteLength(body) }).end(body);
}

function withoutAuthQuery(url: string): string {
  const q = url.indexOf('?');
  if (q === -1) return url;
  const kept = url
    .slice(q + 1)
    .split('&')
    .filter((pair) => !/^x-amz-/i.test(pair) && !/^x-id=/.test(pair));
  return kept.length === 0 ? url.slice(0, q) : `${url.slice(0, q)}?${kept.join('&')}`;
}

function pathOf(req: IncomingMessage): string {
  const url = req.url ?? '/';
  const q = url.indexOf('?');
  return q === -1 ? url : url.slice(0, q);
}

function xmlEscape(text: string): string {
  return text.replace(/[<>&"']/g, (c) => `&#${c.charCodeAt(0)};`);
}
