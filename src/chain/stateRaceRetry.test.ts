import { describe, expect, it } from 'vitest';
import { createPublicClient, custom, RpcRequestError, zeroAddress } from 'viem';
import { isPrunedStateRace, withStateRaceRetry } from './stateRaceRetry.ts';

const raceError = (): RpcRequestError =>
  new RpcRequestError({ body: { method: 'eth_getBalance' }, url: 'http://127.0.0.1:8545', error: { code: -32000, message: 'BlockOutOfRangeError: block height is 44 but requested was 43' } });

/** A client whose RPC fails with `failures` errors made by `makeError`, then answers 0x2a. */
function flakyClient(failures: number, makeError: () => Error, retries?: number) {
  let calls = 0;
  const transport = withStateRaceRetry(
    custom({
      request: async () => {
        calls++;
        if (calls <= failures) throw makeError();
        return '0x2a';
      },
    }, { retryCount: 0 }), // viem's own retries off, as in our clients
    retries,
  );
  const client = createPublicClient({ transport });
  return { client, calls: () => calls };
}

describe('isPrunedStateRace', () => {
  it('recognises anvil\'s answer directly and inside a cause chain', () => {
    expect(isPrunedStateRace(raceError())).toBe(true);
    expect(isPrunedStateRace(new Error('call failed', { cause: raceError() }))).toBe(true);
    expect(isPrunedStateRace(new Error('block height is 9 but requested was 8'))).toBe(true);
  });

  it('rejects other errors and non-errors', () => {
    expect(isPrunedStateRace(new Error('nonce too low'))).toBe(false);
    expect(isPrunedStateRace(new Error('execution reverted'))).toBe(false);
    expect(isPrunedStateRace('BlockOutOfRangeError')).toBe(false);
    expect(isPrunedStateRace(undefined)).toBe(false);
  });
});

describe('withStateRaceRetry', () => {
  it('repeats a read that lost the race and returns the later answer', async () => {
    const { client, calls } = flakyClient(2, raceError);
    await expect(client.getBalance({ address: zeroAddress })).resolves.toBe(42n);
    expect(calls()).toBe(3);
  });

  it('gives up after its retries and surfaces the race error', async () => {
    const { client, calls } = flakyClient(10, raceError, 3);
    await expect(client.getBalance({ address: zeroAddress })).rejects.toThrow(/block height is 44 but requested was 43/);
    expect(calls()).toBe(4);
  });

  it('does not repeat any other failure', async () => {
    const { client, calls } = flakyClient(1, () => new Error('nonce too low'));
    await expect(client.getBalance({ address: zeroAddress })).rejects.toThrow(/nonce too low/);
    expect(calls()).toBe(1);
  });
});
