import { privateKeyToAccount } from 'viem/accounts';
import { recoverTypedDataAddress } from 'viem';
import { describe, expect, it } from 'vitest';
import { VanaLoadError } from '../errors.ts';
import { serverFilesAndPermissionTypes, type ServerFilesAndPermissionMessage } from './eip712.ts';
import {
  parseRelayerRequest,
  parseSignedRelayRequest,
  serializeSignedRelayRequest,
  signRelayRequest,
  type SignedServerFilesAndPermissionRequest,
} from './relayerRequest.ts';

// anvil dev account 9: a well-known local-only key.
const user = privateKeyToAccount('0x2a871d0798f97d79848a013d4936a73bf4cc922c825d33c1cf7073dff6d409c6');
const permissions = '0x5FbDB2315678afecb367f032d93F642f64180aa3';

const message: ServerFilesAndPermissionMessage = {
  nonce: 7n,
  granteeId: 1n,
  grant: 'http://127.0.0.1:4000/blobs/grant.json',
  fileUrls: ['http://127.0.0.1:4000/blobs/file.bin'],
  schemaIds: [0n],
  serverAddress: '0x70997970C51812dc3A010C7d01b50e0d17dc79C8',
  serverUrl: 'http://127.0.0.1:4001',
  serverPublicKey: `0x04${'ab'.repeat(64)}`,
  filePermissions: [[{ account: '0x70997970C51812dc3A010C7d01b50e0d17dc79C8', key: 'cd'.repeat(257) }]],
};

function signedRequest(): Promise<SignedServerFilesAndPermissionRequest> {
  return signRelayRequest({ account: user, chainId: 31337, permissionsAddress: permissions, message, nameSigner: true });
}

/** The wire object for a request, with one field changed by `edit`. */
async function wire(edit: (body: Record<string, any>) => void = () => {}): Promise<unknown> {
  const body = JSON.parse(serializeSignedRelayRequest(await signedRequest())) as Record<string, any>;
  edit(body);
  return body;
}

function parseError(json: unknown): string {
  try {
    parseSignedRelayRequest(json);
  } catch (err) {
    expect(err).toBeInstanceOf(VanaLoadError);
    return (err as VanaLoadError).message;
  }
  throw new Error('Expected parseSignedRelayRequest to throw');
}

describe('signRelayRequest', () => {
  it('leaves expectedUserAddress out by default, as the SDK client sends the request', async () => {
    const request = await signRelayRequest({ account: user, chainId: 31337, permissionsAddress: permissions, message });
    expect(Object.keys(request).sort()).toEqual(['operation', 'signature', 'type', 'typedData']);
  });

  it('wraps the signed typed data with the Permissions domain and names the signer when asked', async () => {
    const request = await signRelayRequest({ account: user, chainId: 31337, permissionsAddress: permissions, message, nameSigner: true });
    expect(request.typedData.domain).toEqual({
      name: 'VanaDataPortabilityPermissions',
      version: '1',
      chainId: 31337,
      verifyingContract: permissions,
    });
    expect(request.expectedUserAddress).toBe(user.address);
    expect(request.operation).toBe('submitAddServerFilesAndPermissions');
    expect(await recoverTypedDataAddress({ ...request.typedData, signature: request.signature })).toBe(user.address);
  });
});

describe('serializeSignedRelayRequest / parseSignedRelayRequest', () => {
  it('sends bigints as decimal strings', async () => {
    const body = (await wire()) as { typedData: { message: Record<string, unknown> } };
    expect(body.typedData.message.nonce).toBe('7');
    expect(body.typedData.message.granteeId).toBe('1');
    expect(body.typedData.message.schemaIds).toEqual(['0']);
  });

  it('round-trips a request with bigints restored, and the signature still recovers', async () => {
    const original = await signedRequest();
    const parsed = parseSignedRelayRequest(JSON.parse(serializeSignedRelayRequest(original)));
    expect(parsed).toEqual(original);
    expect(parsed.typedData.message.nonce).toBe(7n);
    const signer = await recoverTypedDataAddress({ ...parsed.typedData, signature: parsed.signature });
    expect(signer).toBe(user.address);
  });

  it('accepts numbers for uint256 fields and the domain chainId as a decimal string', async () => {
    const parsed = parseSignedRelayRequest(
      await wire((b) => {
        b.typedData.message.nonce = 7;
        b.typedData.domain.chainId = '31337';
      }),
    );
    expect(parsed.typedData.message.nonce).toBe(7n);
    expect(parsed.typedData.domain.chainId).toBe(31337);
  });

  it('accepts a request without expectedUserAddress (it is optional in the protocol)', async () => {
    const parsed = parseSignedRelayRequest(await wire((b) => delete b.expectedUserAddress));
    expect(parsed.expectedUserAddress).toBeUndefined();
  });

  it('ignores an EIP712Domain entry in types', async () => {
    const parsed = parseSignedRelayRequest(
      await wire((b) => {
        b.typedData.types.EIP712Domain = [{ name: 'name', type: 'string' }];
      }),
    );
    expect(parsed.typedData.types).toBe(serverFilesAndPermissionTypes);
  });

  it('error: names a missing signature', async () => {
    expect(parseError(await wire((b) => delete b.signature))).toBe(
      'Invalid relay request: signature: Expected a 65-byte 0x signature (132 hex chars), got nothing',
    );
  });

  it('error: names a short signature', async () => {
    expect(parseError(await wire((b) => (b.signature = '0x1234')))).toBe(
      'Invalid relay request: signature: Expected a 65-byte 0x signature (132 hex chars), got "0x1234"',
    );
  });

  it('error: names a non-decimal nonce', async () => {
    expect(parseError(await wire((b) => (b.typedData.message.nonce = '0x07')))).toBe(
      'Invalid relay request: typedData.message.nonce: Expected a uint256 as a decimal string, got "0x07"',
    );
  });

  it('error: names a uint256 above 2^256-1', async () => {
    expect(parseError(await wire((b) => (b.typedData.message.granteeId = (2n ** 256n).toString())))).toBe(
      'Invalid relay request: typedData.message.granteeId: Expected a uint256 as a decimal string, got "115792089237316195423570985008687907...',
    );
  });

  it('error: names a negative number', async () => {
    expect(parseError(await wire((b) => (b.typedData.message.nonce = -1)))).toBe(
      'Invalid relay request: typedData.message.nonce: Expected a uint256 as a decimal string, got -1',
    );
  });

  it('error: names a bad entry inside schemaIds', async () => {
    expect(parseError(await wire((b) => (b.typedData.message.schemaIds = ['0', 'x'])))).toBe(
      'Invalid relay request: typedData.message.schemaIds.1: Expected a uint256 as a decimal string, got "x"',
    );
  });

  it('error: names fileUrls when it is not an array', async () => {
    expect(parseError(await wire((b) => (b.typedData.message.fileUrls = 'http://x')))).toBe(
      'Invalid relay request: typedData.message.fileUrls: Expected an array, got "http://x"',
    );
  });

  it('error: names a bad account deep inside filePermissions', async () => {
    expect(parseError(await wire((b) => (b.typedData.message.filePermissions[0][0].account = '0x12')))).toBe(
      'Invalid relay request: typedData.message.filePermissions.0.0.account: Expected a 20-byte 0x address, got "0x12"',
    );
  });

  it('error: names a missing serverAddress', async () => {
    expect(parseError(await wire((b) => delete b.typedData.message.serverAddress))).toBe(
      'Invalid relay request: typedData.message.serverAddress: Expected a 20-byte 0x address, got nothing',
    );
  });

  it('error: names a bad expectedUserAddress', async () => {
    expect(parseError(await wire((b) => (b.expectedUserAddress = 'alice')))).toBe(
      'Invalid relay request: expectedUserAddress: Expected a 20-byte 0x address, got "alice"',
    );
  });

  it('error: names a bad domain chainId', async () => {
    expect(parseError(await wire((b) => (b.typedData.domain.chainId = 0)))).toBe(
      'Invalid relay request: typedData.domain.chainId: Expected a positive chain id, got 0',
    );
  });

  it('error: names a type other than "signed"', async () => {
    expect(parseError(await wire((b) => (b.type = 'direct')))).toBe('Invalid relay request: type: Expected "signed", got "direct"');
  });

  it('error: names an unknown operation', async () => {
    expect(parseError(await wire((b) => (b.operation = 'submitEverything')))).toBe(
      'Invalid relay request: operation: Expected one of submitAddPermission, submitPermissionRevoke, submitTrustServer, submitAddAndTrustServer, submitUntrustServer, submitAddServerFilesAndPermissions, submitRegisterGrantee, got "submitEverything"',
    );
  });

  it('error: names a primaryType other than ServerFilesAndPermission', async () => {
    expect(parseError(await wire((b) => (b.typedData.primaryType = 'Permission')))).toBe(
      'Invalid relay request: typedData.primaryType: Expected "ServerFilesAndPermission" (the only primaryType this relayer submits), got "Permission"',
    );
  });

  it('error: names types that differ from the protocol types', async () => {
    expect(parseError(await wire((b) => b.typedData.types.Permission.reverse()))).toBe(
      'Invalid relay request: typedData.types: Expected the ServerFilesAndPermission and Permission types of PROTOCOL.md 2.3',
    );
  });

  it('error: names a body that is not an object', () => {
    expect(parseError('hello')).toBe('Invalid relay request: (body): Expected a JSON object, got "hello"');
  });

  it('error: carries code RELAY_REQUEST_INVALID and class http_4xx', async () => {
    try {
      parseSignedRelayRequest(await wire((b) => delete b.signature));
    } catch (err) {
      expect(err).toMatchObject({ code: 'RELAY_REQUEST_INVALID', errorClass: 'http_4xx', step: 'relay' });
      return;
    }
    throw new Error('Expected a throw');
  });
});

describe('parseRelayerRequest', () => {
  it('parses a signed request as parseSignedRelayRequest does', async () => {
    const original = await signedRequest();
    expect(parseRelayerRequest(JSON.parse(serializeSignedRelayRequest(original)))).toEqual(original);
  });

  it('parses a status_check', () => {
    expect(parseRelayerRequest({ type: 'status_check', operationId: '3f2a-77' })).toEqual({ type: 'status_check', operationId: '3f2a-77' });
  });

  it('parses a storeGrantFile with a valid grant file', () => {
    const params = { grantee: user.address, operation: 'llm_inference', parameters: { prompt: 'p {{data}}' } };
    expect(parseRelayerRequest({ type: 'direct', operation: 'storeGrantFile', params })).toEqual({ type: 'direct', operation: 'storeGrantFile', params });
  });

  it('error: refuses the direct operations this relayer does not offer, by name', () => {
    expect(() => parseRelayerRequest({ type: 'direct', operation: 'submitFileAddition', params: {} })).toThrow(
      'Invalid relay request: operation: submitFileAddition is not offered by this relayer; it serves storeGrantFile',
    );
  });

  it('error: names a storeGrantFile whose grant file breaks the schema', () => {
    expect(() => parseRelayerRequest({ type: 'direct', operation: 'storeGrantFile', params: { grantee: 'me' } })).toThrow(/^Invalid relay request: params: Invalid grant file: grantee: /);
  });

  it('error: names a status_check without an operation id, and an unknown type', () => {
    expect(() => parseRelayerRequest({ type: 'status_check' })).toThrow('Invalid relay request: operationId: Expected an operation id of 1-200 characters [A-Za-z0-9_.:-], got nothing');
    expect(() => parseRelayerRequest({ type: 'query' })).toThrow('Invalid relay request: type: Expected "signed", "status_check" or "direct", got "query"');
  });
});
