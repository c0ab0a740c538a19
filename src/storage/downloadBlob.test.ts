import type { Server } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { downloadBlob, presignedExpiry } from './downloadBlob.ts';
import { parseErrorBody, type StorageError } from './StorageProvider.ts';
import { closeRawServer, startRawServer, storageError } from './testSupport.ts';

function amzDate(ms: number): string {
  return new Date(ms).toISOString().replace(/[-:]/g, '').replace(/\.\d+Z$/, 'Z');
}

describe('downloadBlob', () => {
  let server: Server;
  let base: string;
  // Each path answers with a scripted status and body, as other S3-compatible stores word them.
  const answers: Record<string, [number, string]> = {
    '/aws': [403, '<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>AccessDenied</Code><Message>Request has expired</Message></Error>'],
    '/r2': [403, '<?xml version="1.0" encoding="UTF-8"?><Error><Code>ExpiredRequest</Code><Message>Request has expired</Message></Error>'],
    '/sts': [400, "<?xml version='1.0' encoding='UTF-8'?><Error><Code>ExpiredToken</Code><Message>The provided token has expired.</Message></Error>"],
    '/terse': [403, '<Error><Code>AccessDenied</Code><Message>Access Denied</Message></Error>'],
    '/data': [200, 'hello'],
  };

  beforeAll(async () => {
    ({ server, url: base } = await startRawServer((req, res) => {
      const [status, body] = answers[(req.url ?? '').split('?')[0]!] ?? [404, '{"error":"no such path"}'];
      res.writeHead(status, { 'content-type': status === 200 ? 'text/plain' : 'application/xml' }).end(body);
    }));
  });
  afterAll(async () => {
    await closeRawServer(server);
  });

  async function failure(url: string): Promise<StorageError> {
    return await storageError(() => downloadBlob(url, { timeoutMs: 5_000, step: 'verify' }));
  }

  it('reads the URL with a plain GET', async () => {
    expect(new TextDecoder().decode(await downloadBlob(`${base}/data`, { timeoutMs: 5_000 }))).toBe('hello');
  });

  it('error: takes AWS\'s, R2\'s and an expired token\'s answers for STORAGE_URL_EXPIRED whatever the URL says', async () => {
    const errors = [await failure(`${base}/aws?sig=1`), await failure(`${base}/r2`), await failure(`${base}/sts`)];
    expect(errors.map((e) => [e.code, e.errorClass, e.status, e.step, e.shortMessage])).toEqual([
      ['STORAGE_URL_EXPIRED', 'http_4xx', 403, 'verify', `Presigned URL expired (step verify), status 403: GET ${base}/aws?…`],
      ['STORAGE_URL_EXPIRED', 'http_4xx', 403, 'verify', `Presigned URL expired (step verify), status 403: GET ${base}/r2`],
      ['STORAGE_URL_EXPIRED', 'http_4xx', 400, 'verify', `Presigned URL expired (step verify), status 400: GET ${base}/sts`],
    ]);
  });

  it('error: takes a terse 403 for expired only once the URL\'s own X-Amz-Date + X-Amz-Expires has passed', async () => {
    const signed = (dateMs: number): string => `${base}/terse?X-Amz-Date=${amzDate(dateMs)}&X-Amz-Expires=60&X-Amz-Signature=abc`;
    const past = Date.now() - 120_000;
    const expired = await failure(signed(past));
    const live = await failure(signed(Date.now()));
    expect([expired.code, expired.shortMessage]).toEqual([
      'STORAGE_URL_EXPIRED',
      `Presigned URL expired at ${new Date(Math.floor(past / 1_000) * 1_000 + 60_000).toISOString()} (step verify), status 403: GET ${base}/terse?…`,
    ]);
    expect([live.code, live.errorClass, live.metaMessages]).toEqual(['STORAGE_REJECTED', 'http_4xx', ['Server said: AccessDenied: Access Denied']]);
  });

  it('error: a missing blob stays STORAGE_NOT_FOUND with the server reason', async () => {
    const err = await failure(`${base}/gone`);
    expect([err.code, err.metaMessages]).toEqual(['STORAGE_NOT_FOUND', ['Server said: no such path']]);
  });
});

describe('presignedExpiry', () => {
  it('reads X-Amz-Date + X-Amz-Expires of a presigned URL, and nothing from another URL', () => {
    expect(presignedExpiry('https://b.s3.amazonaws.com/k?X-Amz-Date=20130524T000000Z&X-Amz-Expires=86400&X-Amz-Signature=x')).toBe(Date.UTC(2013, 4, 25));
    expect([presignedExpiry('http://127.0.0.1:3002/blobs/ab/x.bin'), presignedExpiry('not a url'), presignedExpiry('http://x/k?X-Amz-Date=2013&X-Amz-Expires=1')]).toEqual([
      undefined,
      undefined,
      undefined,
    ]);
  });
});

describe('parseErrorBody', () => {
  it('reads S3 XML, the services\' JSON and plain text', () => {
    expect([
      parseErrorBody('<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>NoSuchKey</Code><Message>The key &apos;a&amp;b&apos; does not exist.</Message></Error>'),
      parseErrorBody('{"error":"Body exceeds the 1024-byte limit"}'),
      parseErrorBody('  Bad Gateway\n'),
      parseErrorBody(''),
    ]).toEqual([
      { detail: "NoSuchKey: The key 'a&b' does not exist.", s3Code: 'NoSuchKey', s3Message: "The key 'a&b' does not exist." },
      { detail: 'Body exceeds the 1024-byte limit', s3Code: undefined, s3Message: undefined },
      { detail: 'Bad Gateway', s3Code: undefined, s3Message: undefined },
      { detail: undefined, s3Code: undefined, s3Message: undefined },
    ]);
  });
});
