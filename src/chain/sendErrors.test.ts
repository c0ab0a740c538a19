import { RpcRequestError, TransactionRejectedRpcError } from 'viem';
import { describe, expect, it } from 'vitest';
import { classifySendError, type SendErrorKind } from './sendErrors.ts';

describe('classifySendError', () => {
  const cases: Array<[string, SendErrorKind]> = [
    // geth
    ['nonce too low: address 0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266, tx: 3 state: 5', 'nonce_too_low'],
    ['nonce too high: address 0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266, tx: 9 state: 5', 'nonce_too_high'],
    ['already known', 'already_known'],
    ['replacement transaction underpriced', 'replacement_underpriced'],
    ['transaction underpriced: tip needed 1000000000, tip permitted 1', 'fee_too_low'],
    ['max fee per gas less than block base fee: address 0xf39F, maxFeePerGas: 1, baseFee: 7', 'fee_too_low'],
    ['insufficient funds for gas * price + value: balance 0, tx cost 21000, overshot 21000', 'insufficient_funds'],
    ['execution reverted', 'revert'],
    // anvil 1.7 (details of the -32003 TransactionRejectedRpcError)
    ['transaction already imported', 'already_known'],
    ['nonce too low', 'nonce_too_low'],
    ['Insufficient funds for gas * price + value', 'insufficient_funds'],
    // Nethermind / OpenEthereum
    ['OldNonce', 'nonce_too_low'],
    ['AlreadyKnown', 'already_known'],
    ['Transaction nonce is too low. Try incrementing the nonce.', 'nonce_too_low'],
    ['Transaction with the same hash was already imported.', 'already_known'],
    ['Transaction gas price is too low. There is another transaction with same nonce in the queue.', 'replacement_underpriced'],
    ['FeeTooLow, MaxFeePerGas too low', 'fee_too_low'],
    // transport
    ['fetch failed', 'network'],
    ['The request took too long to respond.', 'timeout'],
    ['invalid sender', 'other'],
  ];
  for (const [message, kind] of cases) {
    it(`classifies "${message}" as ${kind}`, () => {
      expect(classifySendError(new Error(message))).toBe(kind);
    });
  }

  it('finds the node message in the details of a wrapped viem RPC error', () => {
    const rpc = new RpcRequestError({ body: {}, error: { code: -32003, message: 'nonce too low' }, url: 'http://127.0.0.1:8545' });
    const wrapped = new TransactionRejectedRpcError(rpc);
    expect(wrapped.shortMessage).toBe('Transaction creation failed.');
    expect(classifySendError(wrapped)).toBe('nonce_too_low');
  });

  it('finds the node message in a cause several levels down', () => {
    const error = new Error('relay failed', { cause: new Error('send failed', { cause: new Error('replacement transaction underpriced') }) });
    expect(classifySendError(error)).toBe('replacement_underpriced');
  });
});
