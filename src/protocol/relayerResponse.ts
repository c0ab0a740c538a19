/**
 * The rest of the SDK's unified relayer protocol (PROTOCOL.md 8, vana-sdk `types/relayer.ts` at
 * 92133bc): every response a relayer may answer (`UnifiedRelayerResponse`), the `status_check` and
 * `direct`/`storeGrantFile` requests, and the receipt a `confirmed` answer may carry.
 *
 * A receipt crosses HTTP as JSON, so its bigints arrive as strings (decimal or hex, depending on
 * how the relayer serialized them) and its status as `success`/`reverted` or `0x1`/`0x0`. Only
 * what the flow needs is read from it: status, block number and logs.
 */
import { z } from 'zod';
import type { Hex } from 'viem';
import { VanaLoadError } from '../errors.ts';
import type { GrantFile } from './grantFile.ts';

/** A log of a relayed transaction's receipt, with what decoding an event needs. */
export interface RelayedLog {
  address: Hex;
  topics: [Hex, ...Hex[]] | [];
  data: Hex;
}

/** The part of a transaction receipt the flow reads, normalized. */
export interface RelayedReceipt {
  status: 'success' | 'reverted';
  blockNumber: bigint;
  logs: RelayedLog[];
}

/** Every `UnifiedRelayerResponse` shape, parsed. `signed` is what older SDK builds answer to a signed request. */
export type RelayResponse =
  | { type: 'submitted'; hash: Hex }
  | { type: 'signed'; hash: Hex }
  | { type: 'pending'; operationId: string }
  | { type: 'confirmed'; hash: Hex; receipt?: RelayedReceipt }
  | { type: 'direct_result_untracked'; result: unknown }
  | { type: 'direct'; result: unknown }
  | { type: 'error'; error: string };

/** `{type: "status_check", operationId}`: asks a stateful relayer about a `pending` operation. */
export interface StatusCheckRequest {
  type: 'status_check';
  operationId: string;
}

/** `{type: "direct", operation: "storeGrantFile", params}`: the relayer stores the grant file and answers its URL. */
export interface StoreGrantFileRequest {
  type: 'direct';
  operation: 'storeGrantFile';
  params: GrantFile;
}

const HASH = /^0x[0-9a-fA-F]{64}$/;
const HEX = /^0x[0-9a-fA-F]*$/;
const ADDRESS = /^0x[0-9a-fA-F]{40}$/;
const OPERATION_ID = /^[A-Za-z0-9_.:-]{1,200}$/;

const hash = z
  .string({ error: 'Expected a 32-byte 0x hash' })
  .regex(HASH, { error: 'Expected a 32-byte 0x hash' })
  .transform((v) => v as Hex);

/** A quantity as a number, a decimal string or a 0x hex string (relayers serialize bigints either way). */
const quantity = z.union([
  z.number().int().nonnegative().transform((v) => BigInt(v)),
  z
    .string()
    .regex(/^(0|[1-9][0-9]{0,77}|0x[0-9a-fA-F]{1,64})$/, { error: 'Expected a block number as a number, decimal or 0x hex string' })
    .transform((v) => BigInt(v)),
]);

const logSchema = z.object({
  address: z.string().regex(ADDRESS).transform((v) => v as Hex),
  topics: z.array(z.string().regex(HASH).transform((v) => v as Hex)).transform((v) => v as RelayedLog['topics']),
  data: z.string().regex(HEX).transform((v) => v as Hex),
});

const receiptSchema = z.object({
  status: z.union([z.literal('success'), z.literal('reverted'), z.literal('0x1'), z.literal('0x0'), z.literal(1), z.literal(0)]).transform((v): RelayedReceipt['status'] =>
    v === 'success' || v === '0x1' || v === 1 ? 'success' : 'reverted',
  ),
  blockNumber: quantity,
  logs: z.array(logSchema),
});

const responseSchema = z.discriminatedUnion('type', [
  z.object({ type: z.literal('submitted'), hash }),
  z.object({ type: z.literal('signed'), hash }),
  z.object({ type: z.literal('pending'), operationId: z.string().regex(OPERATION_ID, { error: 'Expected an operation id of 1-200 characters [A-Za-z0-9_.:-]' }) }),
  z.object({ type: z.literal('confirmed'), hash, receipt: z.unknown().optional() }),
  z.object({ type: z.literal('direct_result_untracked'), result: z.unknown() }),
  z.object({ type: z.literal('direct'), result: z.unknown() }),
  z.object({ type: z.literal('error'), error: z.string({ error: 'Expected the error as a string' }) }),
], { error: () => 'Expected a type of submitted, signed, pending, confirmed, direct_result_untracked, direct or error' });

/**
 * Parses a relayer's answer. A `confirmed` receipt that does not parse is dropped (the flow then
 * reads the receipt from the chain) rather than failing a flow whose transaction landed.
 * Anything else that is not a known shape throws a `VanaLoadError` (`RELAY_RESPONSE_INVALID`,
 * step `relay`) quoting the first 200 characters of the body.
 *
 * @param json - The decoded body.
 * @param text - The body as received, quoted in the error; default `JSON.stringify(json)`.
 *
 * @example
 * parseRelayResponse({ type: 'pending', operationId: 'c0ffee' }); // { type: 'pending', operationId: 'c0ffee' }
 */
export function parseRelayResponse(json: unknown, text?: string): RelayResponse {
  const result = responseSchema.safeParse(json);
  if (!result.success) {
    const issue = result.error.issues[0];
    const where = issue?.path.map(String).join('.') || '(body)';
    const body = (text ?? safeStringify(json)).slice(0, 200);
    throw new VanaLoadError(`Invalid relay response: ${where}: ${issue?.message ?? 'invalid'}; body: ${body}`, {
      code: 'RELAY_RESPONSE_INVALID',
      step: 'relay',
    });
  }
  const response = result.data;
  if (response.type !== 'confirmed') return response;
  const receipt = response.receipt === undefined ? undefined : receiptSchema.safeParse(response.receipt);
  return receipt?.success ? { type: 'confirmed', hash: response.hash, receipt: receipt.data } : { type: 'confirmed', hash: response.hash };
}

/**
 * The URL in a `storeGrantFile` answer: `{type:"direct_result_untracked", result:{url}}` (or the
 * legacy `{type:"direct", result:{url}}`). Throws `RELAY_RESPONSE_INVALID` for anything else.
 */
export function grantUrlOf(response: RelayResponse): string {
  if (response.type === 'error') {
    throw new VanaLoadError(`relayer refused to store the grant file: ${response.error.slice(0, 200)}`, { code: 'GRANT_STORE_REFUSED', errorClass: 'http_4xx', step: 'upload_grant' });
  }
  const url = (response.type === 'direct_result_untracked' || response.type === 'direct') && typeof response.result === 'object' && response.result !== null
    ? (response.result as { url?: unknown }).url
    : undefined;
  if (typeof url !== 'string' || !/^(https?|ipfs):\/\//.test(url)) {
    throw new VanaLoadError(`Invalid relay response to storeGrantFile: expected {type:"direct_result_untracked", result:{url}}; body: ${safeStringify(response).slice(0, 200)}`, {
      code: 'RELAY_RESPONSE_INVALID',
      step: 'upload_grant',
    });
  }
  return url;
}

/** A receipt as a relayer sends it in JSON: block number as a decimal string. */
export interface RelayedReceiptJson {
  status: RelayedReceipt['status'];
  blockNumber: string;
  logs: RelayedLog[];
}

/** A response as it goes over the wire (the receipt in its JSON form). */
export type RelayResponseJson = Exclude<RelayResponse, { type: 'confirmed' }> | { type: 'confirmed'; hash: Hex; receipt?: RelayedReceiptJson };

/** A receipt as JSON for a `confirmed` answer: bigints as decimal strings, viem's status words. */
export function receiptToJson(receipt: RelayedReceipt): RelayedReceiptJson {
  return { status: receipt.status, blockNumber: receipt.blockNumber.toString(), logs: receipt.logs.map(({ address, topics, data }) => ({ address, topics, data })) };
}

function safeStringify(value: unknown): string {
  try {
    return JSON.stringify(value, (_k, v: unknown) => (typeof v === 'bigint' ? v.toString() : v)) ?? String(value);
  } catch {
    return String(value);
  }
}
