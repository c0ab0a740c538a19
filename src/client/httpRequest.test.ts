import { once } from 'node:events';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { headerValue, httpRequest } from './httpRequest.ts';

let server: http.Server;
let base: string;
const connections = new Set<unknown>();

beforeAll(async () => {
  server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      const url = new URL(req.url!, 'http://x');
      if (url.pathname === '/echo') {
        res.setHeader('content-type', 'application/json');
        res.setHeader('x-seen', ['a', 'b']);
        res.end(JSON.stringify({ method: req.method, body, type: req.headers['content-type'] ?? null, length: req.headers['content-length'] ?? null }));
      } else if (url.pathname === '/see-other') {
        res.writeHead(303, { location: '/echo' }).end();
      } else if (url.pathname === '/temporary') {
        res.writeHead(307, { location: `${base}/echo` }).end();
      } else if (url.pathname === '/loop') {
        res.writeHead(302, { location: '/loop' }).end();
      } else if (url.pathname === '/slow') {
        setTimeout(() => res.end('late'), 5_000).unref();
      } else if (url.pathname === '/cut') {
        res.writeHead(200, { 'content-length': '100' });
        res.write('only part');
        setTimeout(() => res.socket?.destroy(), 20);
      } else {
        res.writeHead(404).end('no such thing');
      }
    });
  });
  server.on('connection', (socket) => connections.add(socket));
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(() => {
  server.closeAllConnections();
  server.close();
});

describe('httpRequest', () => {
  it('sends the body with its length and answers status, headers and text, whatever the status', async () => {
    const answer = await httpRequest({ method: 'POST', url: `${base}/echo`, headers: { 'content-type': 'application/json' }, body: '{"é":1}' });
    expect(answer.status).toBe(200);
    expect(JSON.parse(answer.text)).toEqual({ method: 'POST', body: '{"é":1}', type: 'application/json', length: '8' });
    expect(headerValue(answer.headers, 'X-Seen')).toBe('a, b');
    expect(headerValue(answer.headers, 'retry-after')).toBeNull();
    const missing = await httpRequest({ method: 'GET', url: `${base}/nothing` });
    expect([missing.status, missing.text]).toEqual([404, 'no such thing']);
  });

  it('sends bytes as they are', async () => {
    const answer = await httpRequest({ method: 'PUT', url: `${base}/echo`, body: new Uint8Array([104, 105]) });
    expect(JSON.parse(answer.text)).toMatchObject({ method: 'PUT', body: 'hi', length: '2' });
  });

  it('follows a 303 after a POST as a GET without a body, and a 307 as the same request', async () => {
    expect(JSON.parse((await httpRequest({ method: 'POST', url: `${base}/see-other`, body: 'x' })).text)).toMatchObject({ method: 'GET', body: '' });
    expect(JSON.parse((await httpRequest({ method: 'POST', url: `${base}/temporary`, body: 'x' })).text)).toMatchObject({ method: 'POST', body: 'x' });
  });

  it('stops following after 5 redirects and answers the last one', async () => {
    const answer = await httpRequest({ method: 'GET', url: `${base}/loop` });
    expect(answer.status).toBe(302);
  });

  it('reuses kept-alive connections across sequential requests', async () => {
    connections.clear();
    for (let i = 0; i < 20; i++) await httpRequest({ method: 'GET', url: `${base}/echo` });
    expect(connections.size).toBeLessThanOrEqual(1);
  });

  it('error: rejects with the signal reason when aborted, before or during the exchange', async () => {
    const reason = new DOMException('stop', 'TimeoutError');
    await expect(httpRequest({ method: 'GET', url: `${base}/echo`, signal: AbortSignal.abort(reason) })).rejects.toBe(reason);
    const controller = new AbortController();
    const pending = httpRequest({ method: 'GET', url: `${base}/slow`, signal: controller.signal });
    setTimeout(() => controller.abort(reason), 30);
    await expect(pending).rejects.toBe(reason);
  });

  it('error: an answer cut short is ECONNRESET, a refused connection ECONNREFUSED', async () => {
    await expect(httpRequest({ method: 'GET', url: `${base}/cut` })).rejects.toMatchObject({ code: 'ECONNRESET' });
    const closed = http.createServer();
    closed.listen(0, '127.0.0.1');
    await once(closed, 'listening');
    const port = (closed.address() as AddressInfo).port;
    closed.close();
    await once(closed, 'close');
    await expect(httpRequest({ method: 'GET', url: `http://127.0.0.1:${port}/` })).rejects.toMatchObject({ code: 'ECONNREFUSED' });
  });

  it('error: a URL that is not http(s) is a TypeError', async () => {
    await expect(httpRequest({ method: 'GET', url: 'ftp://127.0.0.1/x' })).rejects.toThrow(TypeError);
    await expect(httpRequest({ method: 'GET', url: 'not a url' })).rejects.toThrow(TypeError);
  });
});
