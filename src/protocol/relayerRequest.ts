/**
 * The signed relay request of PROTOCOL.md 8, for primaryType `ServerFilesAndPermission`: the body
 * a client POSTs to a relayer (`/api/relay`). The answers are in relayerResponse.ts.
 *
 * On the wire every uint256 (domain chainId aside) is a decimal string, because `JSON.stringify`
 * throws on bigint; `serializeSignedRelayRequest` does that conversion and
 * `parseSignedRelayRequest` undoes it, checking every field on the way in.
 */
import { z } from 'zod';
import type { Address, Hex, LocalAccount } from 'viem';
import { VanaLoadError } from '../errors.ts';
import { permissionsDomain, serverFilesAndPermissionTypes, type ServerFilesAndPermissionMessage } from './eip712.ts';
import { validateGrantFile } from './grantFile.ts';
import type { StatusCheckRequest, StoreGrantFileRequest } from './relayerResponse.ts';

/** `operation` values of PROTOCOL.md 8. The relayer ignores it and routes on `primaryType`. */
export const RELAYER_OPERATIONS = [
  'submitAddPermission',
  'submitPermissionRevoke',
  'submitTrustServer',
  'submitAddAndTrustServer',
  'submitUntrustServer',
  'submitAddServerFilesAndPermissions',
  'submitRegisterGrantee',
] as const;
export type RelayerOperation = (typeof RELAYER_OPERATIONS)[number];

/** The EIP-712 domain as a relay request carries it (chainId as a plain number). */
export interface RelayRequestDomain {
  name: string;
  version: string;
  chainId: number;
  verifyingContract: Address;
}

/** A parsed, typed signed relay request for `ServerFilesAndPermission` (bigints restored). */
export interface SignedServerFilesAndPermissionRequest {
  type: 'signed';
  operation: RelayerOperation;
  typedData: {
    domain: RelayRequestDomain;
    types: typeof serverFilesAndPermissionTypes;
    primaryType: 'ServerFilesAndPermission';
    message: ServerFilesAndPermissionMessage;
  };
  /** 65-byte r‖s‖v signature. */
  signature: Hex;
  /** The address the signature must recover to; optional, checked by the relayer when present. */
  expectedUserAddress?: Address;
}

const UINT256_MAX = 2n ** 256n - 1n;
const DECIMAL = /^(0|[1-9][0-9]*)$/;
const ADDRESS = /^0x[0-9a-fA-F]{40}$/;
const SIGNATURE = /^0x[0-9a-fA-F]{130}$/;

function describe(value: unknown): string {
  if (value === undefined) return 'nothing';
  if (typeof value === 'bigint') return `${value}n`;
  const json = JSON.stringify(value);
  return json.length > 40 ? `${json.slice(0, 37)}...` : json;
}

/** A uint256 from a decimal string (the wire form) or a safe non-negative integer number. */
const uint256 = z.unknown().transform((value, ctx): bigint => {
  if (typeof value === 'string' && DECIMAL.test(value) && value.length <= 78) {
    const n = BigInt(value);
    if (n <= UINT256_MAX) return n;
  }
  if (typeof value === 'number' && Number.isSafeInteger(value) && value >= 0) return BigInt(value);
  ctx.addIssue({ code: 'custom', message: `Expected a uint256 as a decimal string, got ${describe(value)}` });
  return z.NEVER;
});

function pattern<T extends string>(regex: RegExp, what: string) {
  return z.unknown().transform((value, ctx): T => {
    if (typeof value === 'string' && regex.test(value)) return value as T;
    ctx.addIssue({ code: 'custom', message: `Expected ${what}, got ${describe(value)}` });
    return z.NEVER;
  });
}

const address = pattern<Address>(ADDRESS, 'a 20-byte 0x address');
const text = z.unknown().transform((value, ctx): string => {
  if (typeof value === 'string') return value;
  ctx.addIssue({ code: 'custom', message: `Expected a string, got ${describe(value)}` });
  return z.NEVER;
});
function list<T extends z.ZodType>(item: T) {
  return z.unknown().pipe(z.array(item, { error: (iss) => `Expected an array, got ${describe(iss.input)}` }));
}

const chainIdSchema = z.unknown().transform((value, ctx): number => {
  const n = typeof value === 'string' && DECIMAL.test(value) ? Number(value) : value;
  if (typeof n === 'number' && Number.isSafeInteger(n) && n > 0) return n;
  ctx.addIssue({ code: 'custom', message: `Expected a positive chain id, got ${describe(value)}` });
  return z.NEVER;
});

const messageSchema = z.object(
  {
    nonce: uint256,
    granteeId: uint256,
    grant: text,
    fileUrls: list(text),
    schemaIds: list(uint256),
    serverAddress: address,
    serverUrl: text,
    serverPublicKey: text,
    filePermissions: list(list(z.object({ account: address, key: text }))),
  },
  { error: (iss) => `Expected an object, got ${describe(iss.input)}` },
);

const typeFieldSchema = z.object({ name: z.string(), type: z.string() });

const envelopeSchema = z.object(
  {
    type: z.literal('signed', { error: (iss) => `Expected "signed", got ${describe(iss.input)}` }),
    operation: z.enum(RELAYER_OPERATIONS, {
      error: (iss) => `Expected one of ${RELAYER_OPERATIONS.join(', ')}, got ${describe(iss.input)}`,
    }),
    typedData: z.object(
      {
        domain: z.object(
          { name: text, version: text, chainId: chainIdSchema, verifyingContract: address },
          { error: (iss) => `Expected an object, got ${describe(iss.input)}` },
        ),
        types: z.record(z.string(), z.array(typeFieldSchema), {
          error: (iss) => `Expected EIP-712 types {Name: [{name, type}]}, got ${describe(iss.input)}`,
        }),
        primaryType: text,
        message: z.unknown(),
      },
      { error: (iss) => `Expected an object, got ${describe(iss.input)}` },
    ),
    signature: pattern<Hex>(SIGNATURE, 'a 65-byte 0x signature (132 hex chars)'),
    expectedUserAddress: z.unknown().optional().pipe(address.optional()),
  },
  { error: (iss) => `Expected a JSON object, got ${describe(iss.input)}` },
);

function fail(path: string, message: string, code: string): never {
  throw new VanaLoadError(`Invalid relay request: ${path}: ${message}`, { code, errorClass: 'http_4xx', step: 'relay' });
}

function firstIssue(error: z.ZodError, prefix: readonly PropertyKey[]): never {
  const issue = error.issues[0];
  const path = [...prefix, ...(issue?.path ?? [])].map(String).join('.') || '(body)';
  const message = issue?.code === 'unrecognized_keys' ? issue.message : (issue?.message ?? 'invalid');
  return fail(path, message, 'RELAY_REQUEST_INVALID');
}

function sameTypes(actual: Record<string, ReadonlyArray<{ name: string; type: string }>>): boolean {
  const expected: Record<string, ReadonlyArray<{ name: string; type: string }>> = serverFilesAndPermissionTypes;
  const names = Object.keys(actual).filter((name) => name !== 'EIP712Domain');
  if (names.length !== Object.keys(expected).length) return false;
  return names.every((name) => {
    const want = expected[name];
    const got = actual[name];
    return (
      want !== undefined &&
      got !== undefined &&
      want.length === got.length &&
      want.every((field, i) => field.name === got[i]?.name && field.type === got[i]?.type)
    );
  });
}

/**
 * Parses a JSON-decoded `/api/relay` body into a typed `ServerFilesAndPermission` request, with
 * bigints restored. Throws a `VanaLoadError` (class `http_4xx`) whose message names the first bad
 * field by its path, e.g. `typedData.message.nonce` or `signature`.
 *
 * @example
 * const request = parseSignedRelayRequest(JSON.parse(body));
 * request.typedData.message.nonce; // 0n
 */
export function parseSignedRelayRequest(json: unknown): SignedServerFilesAndPermissionRequest {
  const envelope = envelopeSchema.safeParse(json);
  if (!envelope.success) firstIssue(envelope.error, []);
  const { typedData } = envelope.data;
  if (typedData.primaryType !== 'ServerFilesAndPermission') {
    fail(
      'typedData.primaryType',
      `Expected "ServerFilesAndPermission" (the only primaryType this relayer submits), got ${describe(typedData.primaryType)}`,
      'RELAY_PRIMARY_TYPE_UNSUPPORTED',
    );
  }
  // The signature is recovered with our canonical types, so types that differ would recover a
  // different signer; saying so here is clearer than a 401.
  if (!sameTypes(typedData.types)) {
    fail('typedData.types', 'Expected the ServerFilesAndPermission and Permission types of PROTOCOL.md 2.3', 'RELAY_REQUEST_INVALID');
  }
  const message = messageSchema.safeParse(typedData.message);
  if (!message.success) firstIssue(message.error, ['typedData', 'message']);

  const request: SignedServerFilesAndPermissionRequest = {
    type: 'signed',
    operation: envelope.data.operation,
    typedData: {
      domain: typedData.domain,
      types: serverFilesAndPermissionTypes,
      primaryType: 'ServerFilesAndPermission',
      message: message.data,
    },
    signature: envelope.data.signature,
  };
  if (envelope.data.expectedUserAddress !== undefined) request.expectedUserAddress = envelope.data.expectedUserAddress;
  return request;
}

export interface SignRelayRequestParameters {
  /** The user: signs the typed data and is named as `expectedUserAddress`. */
  account: LocalAccount;
  chainId: number;
  /** The Permissions contract (EIP-712 verifyingContract). */
  permissionsAddress: Address;
  message: ServerFilesAndPermissionMessage;
  /**
   * Name the signer as `expectedUserAddress`. Default false: the SDK's client
   * (`submitSignedAddServerFilesAndPermissions`) leaves it out; the original load test set it.
   */
  nameSigner?: boolean;
}

/**
 * Signs a `ServerFilesAndPermission` message as the user and wraps it as the relay request of
 * PROTOCOL.md 8, as the SDK sends it (with `expectedUserAddress` only when `nameSigner`).
 *
 * @example
 * const request = await signRelayRequest({ account: user, chainId, permissionsAddress, message });
 * const body = serializeSignedRelayRequest(request);
 */
export async function signRelayRequest({
  account,
  chainId,
  permissionsAddress,
  message,
  nameSigner = false,
}: SignRelayRequestParameters): Promise<SignedServerFilesAndPermissionRequest> {
  const domain = permissionsDomain(chainId, permissionsAddress);
  const signature = await account.signTypedData({
    domain,
    types: serverFilesAndPermissionTypes,
    primaryType: 'ServerFilesAndPermission',
    message,
  });
  return {
    type: 'signed',
    operation: 'submitAddServerFilesAndPermissions',
    typedData: {
      domain: { name: domain.name, version: domain.version, chainId, verifyingContract: permissionsAddress },
      types: serverFilesAndPermissionTypes,
      primaryType: 'ServerFilesAndPermission',
      message,
    },
    signature,
    ...(nameSigner ? { expectedUserAddress: account.address } : {}),
  };
}

/**
 * Serializes a signed request to the JSON body for `/api/relay`, with bigints as decimal strings
 * (PROTOCOL.md 8).
 *
 * @example
 * await fetch(`${apiUrl}/api/relay`, { method: 'POST', headers: { 'content-type': 'application/json' },
 *   body: serializeSignedRelayRequest(request) });
 */
export function serializeSignedRelayRequest(request: SignedServerFilesAndPermissionRequest): string {
  return JSON.stringify(request, (_key, value: unknown) => (typeof value === 'bigint' ? value.toString() : value));
}

/** A request a relayer accepts, as our API server reads it (PROTOCOL.md 8, `UnifiedRelayerRequest`). */
export type RelayerRequest = SignedServerFilesAndPermissionRequest | StatusCheckRequest | StoreGrantFileRequest;

const DIRECT_OPERATIONS = ['submitFileAddition', 'submitFileAdditionWithPermissions', 'submitFileAdditionComplete', 'storeGrantFile'] as const;

/**
 * Parses any unified relayer request: `signed` (see `parseSignedRelayRequest`), `status_check`, or
 * `direct` `storeGrantFile`. The other `direct` operations of the protocol are refused with code
 * `RELAY_OPERATION_UNSUPPORTED`: the flow never sends them. Errors are `VanaLoadError`s of class
 * `http_4xx` naming the field.
 *
 * @example
 * const request = parseRelayerRequest(JSON.parse(body));
 * if (request.type === 'status_check') lookUp(request.operationId);
 */
export function parseRelayerRequest(json: unknown): RelayerRequest {
  if (typeof json !== 'object' || json === null || Array.isArray(json)) fail('(body)', `Expected a JSON object, got ${describe(json)}`, 'RELAY_REQUEST_INVALID');
  const type = (json as { type?: unknown }).type;
  if (type === 'signed') return parseSignedRelayRequest(json);
  if (type === 'status_check') {
    const operationId = (json as { operationId?: unknown }).operationId;
    if (typeof operationId !== 'string' || !/^[A-Za-z0-9_.:-]{1,200}$/.test(operationId)) {
      fail('operationId', `Expected an operation id of 1-200 characters [A-Za-z0-9_.:-], got ${describe(operationId)}`, 'RELAY_REQUEST_INVALID');
    }
    return { type: 'status_check', operationId };
  }
  if (type === 'direct') {
    const { operation, params } = json as { operation?: unknown; params?: unknown };
    if (operation !== 'storeGrantFile') {
      if ((DIRECT_OPERATIONS as readonly unknown[]).includes(operation)) {
        fail('operation', `${String(operation)} is not offered by this relayer; it serves storeGrantFile`, 'RELAY_OPERATION_UNSUPPORTED');
      }
      fail('operation', `Expected one of ${DIRECT_OPERATIONS.join(', ')}, got ${describe(operation)}`, 'RELAY_REQUEST_INVALID');
    }
    try {
      return { type: 'direct', operation: 'storeGrantFile', params: validateGrantFile(params) };
    } catch (err) {
      fail('params', err instanceof VanaLoadError ? err.shortMessage : String(err), 'RELAY_REQUEST_INVALID');
    }
  }
  return fail('type', `Expected "signed", "status_check" or "direct", got ${describe(type)}`, 'RELAY_REQUEST_INVALID');
}
