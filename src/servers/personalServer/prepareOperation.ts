/**
 * Everything `POST /operations` does before it answers 202 (PROTOCOL.md 9, as the real server
 * does it synchronously): check the body, recover the app signer of the exact
 * `operation_request_json`, read the permission and require the signer to be its grantee, fetch
 * and validate the grant, then for every file read its URL and the key wrapped for this user's
 * server, unwrap the key, download and decrypt the file. Each failure is a `PersonalServerError`
 * carrying the protocol's status and error code.
 */
import { createHash } from 'node:crypto';
import { isAddressEqual, recoverMessageAddress, type Address, type Hex } from 'viem';
import type { Logger } from 'pino';
import { eciesDecrypt } from '../../protocol/ecies.ts';
import { validateGrantFile } from '../../protocol/grantFile.ts';
import { decryptWithPassword } from '../../protocol/openpgp.ts';
import { createOperationRequestSchema, operationRequestSchema } from '../../protocol/personalServerApi.ts';
import { redactUrl } from '../../storage/StorageProvider.ts';
import type { ChainReader, PermissionInfo } from './chainReader.ts';
import type { ServerIdentityDeriver } from './identity.ts';
import type { DecryptedFile, InferenceInput } from './inferenceBackends.ts';
import { PersonalServerError, reasonOf } from './personalServerError.ts';

/** A `POST /operations` body that passed the door checks. */
export interface CreateOperationBody {
  appSignature: Hex;
  /** Exactly as received: the signature covers these characters. */
  operationRequestJson: string;
  permissionId: bigint;
}

export interface PreparedOperation {
  permission: PermissionInfo;
  appAddress: Address;
  input: InferenceInput;
}

export interface PrepareOperationContext {
  chain: ChainReader;
  identities: ServerIdentityDeriver;
  /** Timeout of one grant or file download, ms. */
  fetchTimeoutMs: number;
  /** Largest grant or encrypted file accepted, bytes. */
  maxFileBytes: number;
  logger: Logger;
  /** Clock for grant expiry, ms since the epoch. */
  now: () => number;
}

const FIELD_CODES = {
  app_signature: 'VALIDATION_ERROR_APP_SIGNATURE',
  operation_request_json: 'VALIDATION_ERROR_OPERATION_REQUEST_JSON',
} as const;

/**
 * Checks a `POST /operations` body and parses `permission_id` out of `operation_request_json`.
 * Throws a 400 `PersonalServerError` naming the field.
 *
 * @example
 * const body = parseCreateOperationBody(request.body);
 */
export function parseCreateOperationBody(body: unknown): CreateOperationBody {
  const parsed = createOperationRequestSchema.safeParse(body);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const field = issue?.path[0];
    const known = field === 'app_signature' || field === 'operation_request_json';
    throw new PersonalServerError(issue?.message ?? 'Invalid request body', {
      status: 400,
      errorCode: known ? FIELD_CODES[field] : 'VALIDATION_ERROR',
      ...(known ? { field } : {}),
    });
  }
  let request: unknown;
  try {
    request = JSON.parse(parsed.data.operation_request_json);
  } catch {
    throw new PersonalServerError('Invalid JSON format in operation request', {
      status: 400,
      errorCode: 'VALIDATION_ERROR_OPERATION_REQUEST_JSON',
      field: 'operation_request_json',
    });
  }
  const inner = operationRequestSchema.safeParse(request);
  if (!inner.success) {
    const issue = inner.error.issues[0];
    const isPermissionId = issue?.path[0] === 'permission_id';
    throw new PersonalServerError(issue?.message ?? 'Invalid operation request', {
      status: 400,
      errorCode: isPermissionId ? 'VALIDATION_ERROR_PERMISSION_ID' : 'VALIDATION_ERROR_OPERATION_REQUEST_JSON',
      field: isPermissionId ? 'permission_id' : 'operation_request_json',
    });
  }
  return {
    appSignature: parsed.data.app_signature,
    operationRequestJson: parsed.data.operation_request_json,
    permissionId: BigInt(inner.data.permission_id),
  };
}

/** Runs a chain read, turning any failure into a 500 BLOCKCHAIN_ERROR. */
async function onChain<T>(what: string, read: () => Promise<T>): Promise<T> {
  try {
    return await read();
  } catch (cause) {
    throw new PersonalServerError(`Failed to read ${what} from the blockchain: ${reasonOf(cause)}`, {
      status: 500,
      errorCode: 'BLOCKCHAIN_ERROR',
      cause,
    });
  }
}

/** GETs `url` into memory, refusing more than `maxBytes`; failures are 500 FILE_ACCESS_ERROR. */
async function download(url: string, what: string, { fetchTimeoutMs, maxFileBytes }: PrepareOperationContext): Promise<Uint8Array> {
  // The query of a presigned URL is a bearer credential: never in an answer or a log.
  const fail = (reason: string, cause?: unknown): PersonalServerError =>
    new PersonalServerError(`Failed to fetch ${what} from ${redactUrl(url)}: ${reason}`, { status: 500, errorCode: 'FILE_ACCESS_ERROR', cause });
  if (!/^https?:\/\//i.test(url)) throw fail('only http(s) URLs are supported');
  let response: Response;
  try {
    response = await fetch(url, { signal: AbortSignal.timeout(fetchTimeoutMs) });
  } catch (cause) {
    throw fail(cause instanceof Error && cause.name === 'TimeoutError' ? `no answer within ${fetchTimeoutMs} ms` : reasonOf(cause), cause);
  }
  if (!response.ok) {
    // S3 says why in its XML body (AccessDenied: Request has expired, NoSuchKey, ...).
    const text = (await response.text().catch(() => '')).slice(0, 2_000);
    const code = /<Code>([^<]{1,64})<\/Code>/.exec(text)?.[1];
    const message = /<Message>([^<]{1,200})<\/Message>/.exec(text)?.[1];
    throw fail(`status ${response.status}${code ? ` (${code}${message ? `: ${message}` : ''})` : ''}`);
  }
  const declared = Number(response.headers.get('content-length') ?? Number.NaN);
  if (declared > maxFileBytes) {
    await response.body?.cancel();
    throw fail(`${declared} bytes exceeds the ${maxFileBytes}-byte limit`);
  }
  // Read chunk by chunk so that a body without content-length cannot exhaust memory either.
  const chunks: Uint8Array[] = [];
  let total = 0;
  try {
    for await (const chunk of response.body ?? []) {
      total += chunk.byteLength;
      if (total > maxFileBytes) throw fail(`body exceeds the ${maxFileBytes}-byte limit`);
      chunks.push(chunk);
    }
  } catch (cause) {
    if (cause instanceof PersonalServerError) throw cause;
    throw fail(reasonOf(cause), cause);
  }
  return Buffer.concat(chunks, total);
}

function isResponseFormat(value: unknown): value is { type: 'text' | 'json_object' } {
  const type = (value as { type?: unknown } | null)?.type;
  return typeof value === 'object' && value !== null && (type === 'text' || type === 'json_object');
}

async function fetchGrant(ctx: PrepareOperationContext, permission: PermissionInfo, granteeAddress: Address): Promise<InferenceInput> {
  const bytes = await download(permission.grant, 'grant file', ctx);
  const invalid = (reason: string, cause?: unknown): PersonalServerError =>
    new PersonalServerError(`Grant validation failed: ${reason}`, { status: 400, errorCode: 'GRANT_VALIDATION_ERROR', cause });
  let json: unknown;
  try {
    json = JSON.parse(new TextDecoder().decode(bytes));
  } catch (cause) {
    throw invalid('the grant file is not JSON', cause);
  }
  let grant: ReturnType<typeof validateGrantFile>;
  try {
    grant = validateGrantFile(json);
  } catch (cause) {
    throw invalid(reasonOf(cause), cause);
  }
  if (grant.expires !== undefined && grant.expires * 1000 <= ctx.now()) {
    throw invalid(`the grant expired at ${new Date(grant.expires * 1000).toISOString()}`);
  }
  // The real server (grants/validate.py at vana-personal-server ffec706) compares the strings
  // exactly, so a grantee spelled in another case is refused too.
  if (grant.grantee !== granteeAddress) {
    throw invalid('App address does not match the app address in the access permissions');
  }
  const { prompt, response_format: responseFormat } = grant.parameters;
  if (typeof prompt !== 'string') {
    throw invalid(`parameters.prompt: expected a string, got ${prompt === undefined ? 'nothing' : typeof prompt}`);
  }
  if (responseFormat !== undefined && !isResponseFormat(responseFormat)) {
    throw new PersonalServerError(`Invalid response_format in grant file: expected {"type":"text"|"json_object"}, got ${JSON.stringify(responseFormat)}`, {
      status: 400,
      errorCode: 'VALIDATION_ERROR',
    });
  }
  return { operation: grant.operation, prompt, ...(responseFormat ? { responseFormat } : {}), files: [] };
}

async function decryptFile(ctx: PrepareOperationContext, fileId: bigint, server: { address: Address; privateKey: Hex }): Promise<DecryptedFile> {
  const [url, wrappedKey] = await Promise.all([
    onChain(`file ${fileId}`, () => ctx.chain.fileUrl(fileId)),
    onChain(`the key of file ${fileId} for ${server.address}`, () => ctx.chain.fileKey(fileId, server.address)),
  ]);
  if (url === undefined) {
    throw new PersonalServerError(`File ${fileId} not found in the data registry`, { status: 500, errorCode: 'FILE_ACCESS_ERROR' });
  }
  if (!wrappedKey) {
    throw new PersonalServerError(`File ${fileId} grants no key to this personal server (${server.address})`, {
      status: 500,
      errorCode: 'FILE_ACCESS_ERROR',
    });
  }
  let password: string;
  try {
    password = new TextDecoder().decode(eciesDecrypt(server.privateKey, wrappedKey));
  } catch (cause) {
    throw new PersonalServerError(`Failed to unwrap the key of file ${fileId}: ${reasonOf(cause)}`, { status: 500, errorCode: 'DECRYPTION_ERROR', cause });
  }
  const encrypted = await download(url, `file ${fileId}`, ctx);
  let bytes: Uint8Array;
  try {
    bytes = await decryptWithPassword(encrypted, password);
  } catch (cause) {
    throw new PersonalServerError(`Failed to decrypt file ${fileId}: ${reasonOf(cause)}`, { status: 500, errorCode: 'DECRYPTION_ERROR', cause });
  }
  return { fileId, bytes, sha256: createHash('sha256').update(bytes).digest('hex') };
}

/**
 * Authorizes an operation and decrypts its files, ready for the inference backend.
 *
 * @example
 * const body = parseCreateOperationBody(request.body);
 * const { input } = await prepareOperation(ctx, body);
 */
export async function prepareOperation(ctx: PrepareOperationContext, body: CreateOperationBody): Promise<PreparedOperation> {
  let appAddress: Address;
  try {
    appAddress = await recoverMessageAddress({ message: body.operationRequestJson, signature: body.appSignature });
  } catch (cause) {
    throw new PersonalServerError('Invalid signature or unable to recover app address', { status: 401, errorCode: 'AUTHENTICATION_ERROR', cause });
  }

  const permission = await onChain(`permission ${body.permissionId}`, () => ctx.chain.permission(body.permissionId));
  if (!permission) {
    throw new PersonalServerError(`Permission with ID ${body.permissionId} not found`, { status: 404, errorCode: 'NOT_FOUND_ERROR' });
  }
  if (permission.fileIds.length === 0) {
    throw new PersonalServerError('No file IDs found in permission', { status: 400, errorCode: 'VALIDATION_ERROR' });
  }
  const granteeAddress = await onChain(`grantee ${permission.granteeId}`, () => ctx.chain.granteeAddress(permission.granteeId));
  if (!granteeAddress) {
    throw new PersonalServerError(`Grantee with ID ${permission.granteeId} not found`, { status: 404, errorCode: 'NOT_FOUND_ERROR' });
  }
  if (!isAddressEqual(appAddress, granteeAddress)) {
    throw new PersonalServerError(
      `Signature recovered address ${appAddress} does not match on-chain grantee address ${granteeAddress}`,
      { status: 401, errorCode: 'AUTHENTICATION_ERROR' },
    );
  }

  // The files were wrapped for the grantor's own server key (PROTOCOL.md 9: one identity per user).
  const server = ctx.identities.derive(permission.grantor);
  // Grant and files in parallel, but errors reported in the real server's order: grant first.
  const [grant, files] = await Promise.allSettled([
    fetchGrant(ctx, permission, granteeAddress),
    Promise.all(permission.fileIds.map((fileId) => decryptFile(ctx, fileId, server))),
  ]);
  if (grant.status === 'rejected') throw grant.reason;
  if (files.status === 'rejected') throw files.reason;
  return { permission, appAddress, input: { ...grant.value, files: files.value } };
}
