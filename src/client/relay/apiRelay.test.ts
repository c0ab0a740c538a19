/**
 * The `api` relay against a scripted relayer on a real socket: every answer of the SDK's unified
 * protocol, the status_check polling of a stateful relayer, and what an unknown answer does.
 */
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { privateKeyToAccount } from 'viem/accounts';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { signRelayRequest, type SignedServerFilesAndPermissionRequest } from '../../protocol/relayerRequest.ts';
import { createApiRelay } from './apiRelay.ts';

// anvil dev account 9: a well-known local-only key.
const user = privateKeyToAccount('0x2a871d0798f97d79848a013d4936a73bf4cc922c825d33c1cf7073dff6d409c6');
const hash = `0x${'ab'.repeat(32)}` as const;
const log = { address: '0x5FbDB2315678afecb367f032d93F642f64180aa3', topics: [`0x${'22'.repeat(32)}`], data: '0x' };

/** What the relayer answers to each request, in order; it records the bodies it got. */
let script: Array<{ status?: number; body: unknown }> = [];
const received: unknown[] = [];
let server: Server;
let url: string;
let request: SignedServerFilesAndPermissionRequest;
const signal = new AbortController().signal;

async function bodyOf(req: IncomingMessage): Promise<unknown> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return JSON.parse(Buffer.concat(chunks).toString('utf8'));
}

beforeAll(async () => {
  server = createServer((req, res) => {
    void bodyOf(req).then((body) => {
      received.push(body);
      const next = script.shift() ?? { status: 500, body: { type: 'error', error: 'script exhausted' } };
      res.writeHead(next.status ?? 200, { 'content-type': 'application/json' });
      res.end(typeof next.body === 'string' ? next.body : JSON.stringify(next.body));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/api/relay`;
  request = await signRelayRequest({
    account: user,
    chainId: 14800,
    permissionsAddress: '0xD54523048AdD05b4d734aFaE7C68324Ebb7373eF',
    message: {
      nonce: 0n,
      granteeId: 1n,
      grant: 'https://s.example/g.json',
      fileUrls: ['https://s.example/f.bin'],
      schemaIds: [0n],
      serverAddress: user.address,
      serverUrl: 'https://ps.example/api/v1',
      serverPublicKey: `0x04${'ab'.repeat(64)}`,
      filePermissions: [[{ account: user.address, key: 'cd'.repeat(257) }]],
    },
  });
});
afterEach(() => {
  script = [];
  received.length = 0;
});
afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

describe('createApiRelay', () => {
  const relay = () => createApiRelay({ url, httpTimeoutMs: 5_000, pollIntervalMs: 10, maxPollIntervalMs: 20 });

  it('sends the signed request as the SDK does (bigints as decimal strings, no expectedUserAddress) and takes submitted', async () => {
    script = [{ body: { type: 'submitted', hash } }];
    expect(await relay().submit(request, { account: user, signal })).toEqual({ kind: 'submitted', hash });
    const sent = received[0] as { type: string; operation: string; typedData: { message: { nonce: unknown } }; expectedUserAddress?: unknown };
    expect([sent.type, sent.operation, sent.typedData.message.nonce, 'expectedUserAddress' in sent]).toEqual(['signed', 'submitAddServerFilesAndPermissions', '0', false]);
  });

  it('takes the legacy signed answer of older SDK builds as a hash', async () => {
    script = [{ body: { type: 'signed', hash } }];
    expect(await relay().submit(request, { account: user, signal })).toEqual({ kind: 'submitted', hash });
  });

  it('takes confirmed with its receipt, so the flow need not wait for one', async () => {
    script = [{ body: { type: 'confirmed', hash, receipt: { status: 'success', blockNumber: '7', logs: [log] } } }];
    expect(await relay().submit(request, { account: user, signal })).toEqual({
      kind: 'confirmed',
      hash,
      receipt: { status: 'success', blockNumber: 7n, logs: [log] },
    });
  });

  it('polls a pending operation with status_check until it is confirmed', async () => {
    script = [
      { body: { type: 'pending', operationId: 'op-1' } },
      { body: { type: 'pending', operationId: 'op-1' } },
      { body: { type: 'pending', operationId: 'op-1' } },
      { body: { type: 'confirmed', hash } },
    ];
    const r = relay();
    const outcome = await r.submit(request, { account: user, signal });
    expect(outcome).toEqual({ kind: 'pending', operationId: 'op-1' });
    expect(await r.awaitOperation('op-1', { signal, timeoutMs: 5_000 })).toEqual({ hash });
    expect(received.slice(1)).toEqual(Array(3).fill({ type: 'status_check', operationId: 'op-1' }));
  });

  it('error: a status_check answered with error fails the confirm step, classed by its words', async () => {
    script = [{ body: { type: 'error', error: 'transaction reverted: InvalidNonce(1, 0)' } }];
    await expect(relay().awaitOperation('op-2', { signal, timeoutMs: 5_000 })).rejects.toMatchObject({
      code: 'RELAY_REFUSED',
      step: 'confirm',
      errorClass: 'revert',
      shortMessage: 'relayer refused: operation op-2: transaction reverted: InvalidNonce(1, 0)',
    });
  });

  it('error: an operation still pending at its deadline is a confirm timeout', async () => {
    script = Array.from({ length: 50 }, () => ({ body: { type: 'pending', operationId: 'op-3' } }));
    await expect(relay().awaitOperation('op-3', { signal, timeoutMs: 60 })).rejects.toMatchObject({ code: 'CONFIRM_TIMEOUT', errorClass: 'timeout', step: 'confirm' });
  });

  it('error: a refusal fails the relay step with the relayer\'s words', async () => {
    script = [{ status: 422, body: { type: 'error', error: 'Execution reverted: GranteeNotFound()' } }];
    await expect(relay().submit(request, { account: user, signal })).rejects.toMatchObject({ step: 'relay', errorClass: 'http_4xx', httpStatus: 422 });
    script = [{ body: { type: 'error', error: 'nonce too low' } }];
    await expect(relay().submit(request, { account: user, signal })).rejects.toMatchObject({ code: 'RELAY_REFUSED', step: 'relay', errorClass: 'nonce' });
  });

  it('error: an answer of a shape it does not know fails at relay quoting the first 200 characters of the body', async () => {
    const body = JSON.stringify({ ok: true, transactionHash: hash, padding: 'x'.repeat(400) });
    script = [{ body }];
    await expect(relay().submit(request, { account: user, signal })).rejects.toMatchObject({
      code: 'RELAY_RESPONSE_INVALID',
      step: 'relay',
      shortMessage: `Invalid relay response: type: Expected a type of submitted, signed, pending, confirmed, direct_result_untracked, direct or error; body: ${body.slice(0, 200)}`,
    });
  });

  it('stores a grant file with the direct storeGrantFile operation and returns its URL', async () => {
    script = [{ body: { type: 'direct_result_untracked', result: { url: 'https://s.example/grant-1.json' } } }];
    const grant = { grantee: user.address, operation: 'llm_inference', parameters: { prompt: 'p' } };
    expect(await relay().storeGrantFile(grant, { signal })).toBe('https://s.example/grant-1.json');
    expect(received[0]).toEqual({ type: 'direct', operation: 'storeGrantFile', params: grant });
  });
});
