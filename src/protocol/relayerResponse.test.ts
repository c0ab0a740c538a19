import { describe, expect, it } from 'vitest';
import { grantUrlOf, parseRelayResponse, receiptToJson, type RelayedReceipt } from './relayerResponse.ts';

const hash = `0x${'11'.repeat(32)}` as const;
const log = { address: '0x5FbDB2315678afecb367f032d93F642f64180aa3', topics: [`0x${'22'.repeat(32)}`], data: '0x' } as const;

describe('parseRelayResponse', () => {
  it('parses submitted, signed (older SDK builds), pending and error answers', () => {
    expect(parseRelayResponse({ type: 'submitted', hash })).toEqual({ type: 'submitted', hash });
    expect(parseRelayResponse({ type: 'signed', hash })).toEqual({ type: 'signed', hash });
    expect(parseRelayResponse({ type: 'pending', operationId: '9b2c0f2e-6c1d-4a51-8a7e-0b6d0e3c2d11' })).toEqual({
      type: 'pending',
      operationId: '9b2c0f2e-6c1d-4a51-8a7e-0b6d0e3c2d11',
    });
    expect(parseRelayResponse({ type: 'error', error: 'Execution reverted: InvalidNonce(1, 0)' })).toEqual({ type: 'error', error: 'Execution reverted: InvalidNonce(1, 0)' });
  });

  it('parses a confirmed answer with its receipt, whatever way the relayer wrote status and numbers', () => {
    const expected: RelayedReceipt = { status: 'success', blockNumber: 42n, logs: [{ ...log, topics: [...log.topics] }] };
    for (const receipt of [
      { status: 'success', blockNumber: '42', logs: [log] },
      { status: '0x1', blockNumber: '0x2a', logs: [log], gasUsed: '0x5208' },
      { status: 1, blockNumber: 42, logs: [log] },
    ]) {
      expect(parseRelayResponse({ type: 'confirmed', hash, receipt })).toEqual({ type: 'confirmed', hash, receipt: expected });
    }
    expect(parseRelayResponse({ type: 'confirmed', hash, receipt: receiptToJson({ ...expected, status: 'reverted' }) })).toEqual({
      type: 'confirmed',
      hash,
      receipt: { ...expected, status: 'reverted' },
    });
  });

  it('keeps a confirmed answer whose receipt does not parse, without the receipt', () => {
    expect(parseRelayResponse({ type: 'confirmed', hash, receipt: { blockHash: 'x' } })).toEqual({ type: 'confirmed', hash });
    expect(parseRelayResponse({ type: 'confirmed', hash })).toEqual({ type: 'confirmed', hash });
  });

  it('error: quotes the first 200 characters of a body of a shape it does not know', () => {
    const text = JSON.stringify({ ok: true, txHash: hash, note: 'x'.repeat(300) });
    expect(() => parseRelayResponse(JSON.parse(text), text)).toThrow(
      `Invalid relay response: type: Expected a type of submitted, signed, pending, confirmed, direct_result_untracked, direct or error; body: ${text.slice(0, 200)}`,
    );
  });

  it('error: names a submitted answer without a hash, with code RELAY_RESPONSE_INVALID at step relay', () => {
    try {
      parseRelayResponse({ type: 'submitted' });
    } catch (err) {
      expect(err).toMatchObject({ code: 'RELAY_RESPONSE_INVALID', step: 'relay', errorClass: 'other' });
      expect((err as Error).message).toBe('Invalid relay response: hash: Expected a 32-byte 0x hash; body: {"type":"submitted"}');
      return;
    }
    throw new Error('Expected a throw');
  });
});

describe('grantUrlOf', () => {
  it('reads the URL of a storeGrantFile answer, current and legacy shape', () => {
    expect(grantUrlOf({ type: 'direct_result_untracked', result: { url: 'https://g.example/grant.json' } })).toBe('https://g.example/grant.json');
    expect(grantUrlOf({ type: 'direct', result: { url: 'ipfs://bafy' } })).toBe('ipfs://bafy');
  });

  it('error: a refusal or an answer without a URL fails at upload_grant', () => {
    expect(() => grantUrlOf({ type: 'error', error: 'no storage configured' })).toThrow('relayer refused to store the grant file: no storage configured');
    expect(() => grantUrlOf({ type: 'submitted', hash })).toThrow(/^Invalid relay response to storeGrantFile/);
  });
});
