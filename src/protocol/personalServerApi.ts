/**
 * The personal-server HTTP API of PROTOCOL.md 9, as TypeScript types and zod schemas. The local
 * personal server validates requests with these schemas, and the client parses responses with
 * them, so both sides of the wire read the same definition. Field names are snake_case because
 * that is what goes over the wire.
 */
import { z } from 'zod';
import type { Address, Hex } from 'viem';

const ADDRESS = /^0x[0-9a-fA-F]{40}$/;
const SIGNATURE = /^0x[0-9a-fA-F]{130}$/;
/** `0x04` + 128 hex (what we send), `0x` + 128 hex, or bare 128 hex (the real server's form). */
const PUBLIC_KEY = /^(0x)?(04)?[0-9a-fA-F]{128}$/;

function describe(value: unknown): string {
  if (value === undefined) return 'nothing';
  const text = JSON.stringify(value);
  return text.length > 80 ? `${text.slice(0, 77)}...` : text;
}

/** Operation lifecycle values. The SDK's waitForOperation checks `canceled` (one l); the server says `cancelled`. */
export const OPERATION_STATUSES = ['pending', 'running', 'succeeded', 'failed', 'cancelled'] as const;
export type OperationStatusValue = (typeof OPERATION_STATUSES)[number];

/** Status values after which an operation never changes again. */
export const FINAL_OPERATION_STATUSES: ReadonlySet<OperationStatusValue> = new Set(['succeeded', 'failed', 'cancelled']);

/** `error_code` values the personal server answers with (PROTOCOL.md 9). */
export const PERSONAL_SERVER_ERROR_CODES = [
  'VALIDATION_ERROR',
  'VALIDATION_ERROR_USER_ADDRESS',
  'VALIDATION_ERROR_APP_SIGNATURE',
  'VALIDATION_ERROR_OPERATION_REQUEST_JSON',
  'VALIDATION_ERROR_PERMISSION_ID',
  'GRANT_VALIDATION_ERROR',
  'AUTHENTICATION_ERROR',
  'NOT_FOUND_ERROR',
  'RATE_LIMIT_ERROR',
  'BLOCKCHAIN_ERROR',
  'FILE_ACCESS_ERROR',
  'DECRYPTION_ERROR',
  'COMPUTE_ERROR',
  'OPERATION_ERROR',
  'INTERNAL_SERVER_ERROR',
] as const;
export type PersonalServerErrorCode = (typeof PERSONAL_SERVER_ERROR_CODES)[number];

/** `GET /identity?address=…` → 200. */
export interface IdentityResponse {
  kind: 'Identity';
  user_address: Address;
  personal_server: {
    kind: 'PersonalServer';
    address: Address;
    /** Uncompressed secp256k1 public key, `0x04` + 128 hex. */
    public_key: Hex;
  };
}

/** `POST /operations` body. */
export interface CreateOperationRequest {
  /** EIP-191 signature by the grantee (app) key over the exact `operation_request_json` string. */
  app_signature: Hex;
  /** `JSON.stringify({ permission_id })`: signed byte for byte, so never re-serialize it. */
  operation_request_json: string;
}

/** The object inside `operation_request_json`. */
export interface OperationRequest {
  permission_id: number;
}

/** `POST /operations` → 202. */
export interface CreateOperationResponse {
  kind: 'OperationCreated';
  id: string;
  /** ISO-8601 timestamp. */
  created_at: string;
}

/** `GET /operations/:id` → 200. */
export interface OperationStatus {
  kind: 'OperationStatus';
  id: string;
  status: OperationStatusValue;
  started_at?: string | null;
  finished_at?: string | null;
  /** The inference output (a string; ours is JSON text), or an error description when failed. */
  result?: string | null;
}

/** Every non-2xx answer: FastAPI nests the error object under `detail`. */
export interface PersonalServerErrorBody {
  detail: {
    kind: 'Error';
    detail: string;
    error_code: PersonalServerErrorCode;
    field?: string | null;
  };
}

/**
 * The exact `operation_request_json` string the SDK signs and sends for a permission.
 *
 * @example
 * const json = operationRequestJson(42); // '{"permission_id":42}'
 * const app_signature = await app.signMessage({ message: json });
 */
export function operationRequestJson(permissionId: number | bigint): string {
  return JSON.stringify({ permission_id: Number(permissionId) });
}

const addressSchema = z
  .unknown()
  .refine((v): v is Address => typeof v === 'string' && ADDRESS.test(v), {
    error: (iss) => `Expected a 0x-prefixed 20-byte hex address, got ${describe(iss.input)}`,
  })
  .transform((v) => v as Address);

/** Normalizes the three public-key spellings to `0x04…` (as the SDK does). */
const publicKeySchema = z
  .unknown()
  .refine((v): v is string => typeof v === 'string' && PUBLIC_KEY.test(v), {
    error: (iss) => `Expected an uncompressed secp256k1 public key (0x04 + 128 hex), got ${describe(iss.input)}`,
  })
  .transform((v) => `0x04${(v as string).replace(/^0x/, '').slice(-128)}` as Hex);

/** Parses `GET /identity` responses; the public key comes out as `0x04…`. */
export const identityResponseSchema = z.object({
  kind: z.literal('Identity'),
  user_address: addressSchema,
  personal_server: z.object({
    kind: z.literal('PersonalServer'),
    address: addressSchema,
    public_key: publicKeySchema,
  }),
});

/** Validates a `POST /operations` body; each issue path names the offending field. */
export const createOperationRequestSchema = z.object(
  {
    app_signature: z
      .unknown()
      .refine((v): v is Hex => typeof v === 'string' && SIGNATURE.test(v), {
        error: (iss) => `Expected app_signature as a 0x-prefixed 65-byte hex signature, got ${describe(iss.input)}`,
      })
      .transform((v) => v as Hex),
    operation_request_json: z.unknown().refine((v): v is string => typeof v === 'string' && v.length > 0 && v.length <= 10_000, {
      error: (iss) => `Expected operation_request_json as a non-empty JSON string (at most 10000 chars), got ${describe(iss.input)}`,
    }).transform((v) => v as string),
  },
  { error: (iss) => `Expected a JSON object body, got ${describe(iss.input)}` },
);

/** Validates the object inside `operation_request_json` (after `JSON.parse`). */
export const operationRequestSchema = z.object(
  {
    permission_id: z.unknown().refine((v): v is number => typeof v === 'number' && Number.isSafeInteger(v) && v > 0, {
      error: (iss) => `Expected permission_id as a positive integer, got ${describe(iss.input)}`,
    }).transform((v) => v as number),
  },
  { error: (iss) => `Expected operation_request_json to hold a JSON object, got ${describe(iss.input)}` },
);

/** Parses `POST /operations` 202 responses. */
export const createOperationResponseSchema = z.object({
  kind: z.literal('OperationCreated'),
  id: z.string().min(1),
  created_at: z.string(),
});

/** Parses `GET /operations/:id` responses. */
export const operationStatusSchema = z.object({
  kind: z.literal('OperationStatus'),
  id: z.string().min(1),
  status: z.enum(OPERATION_STATUSES),
  started_at: z.string().nullish(),
  finished_at: z.string().nullish(),
  result: z.string().nullish(),
});

/**
 * Parses error bodies. `error_code` is kept as any string so that a code a newer server adds
 * still parses; compare it against `PERSONAL_SERVER_ERROR_CODES`.
 */
export const personalServerErrorBodySchema = z.object({
  detail: z.object({
    kind: z.string().optional(),
    detail: z.string(),
    error_code: z.string(),
    field: z.string().nullish(),
  }),
});

/**
 * What the local personal server puts in `result` (JSON text). Not part of the real protocol,
 * whose result is the model output: ours wraps it so that `plaintext_sha256` lets the client check
 * that the server decrypted exactly the bytes the client encrypted.
 */
export interface LocalInferenceResult {
  backend: 'sim' | 'openai';
  /** The grant's `operation`. */
  operation: string;
  /** Lowercase hex sha256 of the first file's decrypted bytes. */
  plaintext_sha256: string;
  byte_count: number;
  /** Every file of the permission, in `fileIds` order. */
  files: Array<{ file_id: string; plaintext_sha256: string; byte_count: number }>;
  /** sim: the grant's prompt template. */
  prompt?: string;
  /** sim: a small deterministic analysis of the first file. */
  analysis?:
    | { format: 'json'; top_level_type: string; key_count: number; top_level_keys: string[] }
    | { format: 'text'; line_count: number };
  /** openai: model name and its answer. */
  model?: string;
  output?: string;
  usage?: unknown;
}

/** Parses the JSON inside a succeeded operation's `result` from the local personal server. */
export const localInferenceResultSchema = z.looseObject({
  backend: z.enum(['sim', 'openai']),
  operation: z.string(),
  plaintext_sha256: z.string().regex(/^[0-9a-f]{64}$/),
  byte_count: z.number().int().nonnegative(),
  files: z.array(z.object({ file_id: z.string(), plaintext_sha256: z.string(), byte_count: z.number() })),
});
