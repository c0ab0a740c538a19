import { createServer, type Server } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort } from '../util/freePort.ts';
import { httpJson, parseRetryAfterHeader } from './httpJson.ts';

let server: Server;
let base: string;
beforeAll(async () => {
  server = createServer((req, res) => {
    const status = Number(new URL(req.url!, 'http://x').searchParams.get('status') ?? 200);
    if (req.url!.startsWith('/slow')) return void setTimeout(() => res.end('{}'), 500);
    if (status === 429) res.setHeader('retry-after', '2');
    res.statusCode = status;
    res.end(req.url!.startsWith('/text') ? 'not json' : JSON.stringify({ status }));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  base = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
});
afterAll(() => new Promise<void>((r) => server.close(() => r())));

describe('httpJson', () => {
  it('returns the parsed body of a 2xx answer', async () => {
    expect(await httpJson({ method: 'GET', url: `${base}/ok`, step: 'identity', timeoutMs: 2000 })).toEqual({ status: 200 });
  });

  it.each([
    [429, 'rate_limited'],
    [404, 'http_4xx'],
    [503, 'http_5xx'],
  ])('error: classifies status %i as %s', async (status, errorClass) => {
    const err = await httpJson({ method: 'POST', url: `${base}/x?status=${status}&token=secret`, body: '{}', step: 'relay', timeoutMs: 2000 }).catch((e: unknown) => e);
    expect(err).toMatchObject({ errorClass, httpStatus: status, step: 'relay' });
    expect((err as Error).message).not.toContain('secret');
    if (status === 429) expect(err).toMatchObject({ retryAfterMs: 2000 });
  });

  it('error: a deadline is a timeout, a closed port is a network error, a non-JSON body is other', async () => {
    await expect(httpJson({ method: 'GET', url: `${base}/slow`, step: 'identity', timeoutMs: 50 })).rejects.toMatchObject({ errorClass: 'timeout' });
    const port = await freePort();
    await expect(httpJson({ method: 'GET', url: `http://127.0.0.1:${port}/`, step: 'identity', timeoutMs: 1000 })).rejects.toMatchObject({ errorClass: 'network' });
    await expect(httpJson({ method: 'GET', url: `${base}/text`, step: 'identity', timeoutMs: 1000 })).rejects.toMatchObject({ code: 'HTTP_BAD_JSON' });
  });

  it('reads Retry-After as seconds or as a date', () => {
    expect(parseRetryAfterHeader('3')).toBe(3000);
    expect(parseRetryAfterHeader(new Date(10_000).toUTCString(), 4_000)).toBe(6000);
    expect(parseRetryAfterHeader(null)).toBeUndefined();
    expect(parseRetryAfterHeader('soon')).toBeUndefined();
  });
});
