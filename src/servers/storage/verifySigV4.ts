/**
 * Checks an S3 request's AWS Signature Version 4 the way S3 does, for the local S3 server: s3rver
 * accepts any SigV4 signature from a known key id, so without this a presigning bug, a wrong
 * secret or a URL altered on its way to the personal server would pass here and fail on AWS.
 *
 * Both forms are checked: the `Authorization: AWS4-HMAC-SHA256 Credential=…, SignedHeaders=…,
 * Signature=…` header of the SDK's own requests, and the `X-Amz-*` query of presigned URLs
 * (including their expiry). The payload hash is taken from `x-amz-content-sha256` as sent, not
 * recomputed from the body (the body is streamed on to the store).
 *
 * Written from the published algorithm (canonical request → string to sign → HMAC-SHA256 chain
 * over date, region, service), independently of the SDK's signer, so the two check each other.
 */
import { createHash, createHmac, timingSafeEqual } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';

export interface SigV4Credentials {
  accessKeyId: string;
  secretAccessKey: string;
  /** The only region this store answers for; another one in a request's scope is refused. */
  region: string;
}

export interface SigV4Request {
  method: string;
  /** The raw request target: path and query as sent (`req.url`). */
  url: string;
  headers: IncomingHttpHeaders;
}

/** Why S3 would refuse the request: an S3 error code, its HTTP status and message. */
export interface SigV4Refusal {
  status: number;
  code: string;
  message: string;
  /** Extra elements of the XML error body (S3 adds them for expiry and skew). */
  detail?: Record<string, string>;
}

export type SigV4Result = { kind: 'anonymous' } | { kind: 'signed'; form: 'header' | 'query' } | { kind: 'refused'; refusal: SigV4Refusal };

const ALGORITHM = 'AWS4-HMAC-SHA256';
// S3 refuses a header-signed request whose x-amz-date is more than 15 minutes off its clock.
const MAX_SKEW_MS = 15 * 60_000;
const MAX_PRESIGN_EXPIRES_S = 604_800;
const AMZ_DATE = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/;

/**
 * Verifies one request against one key pair. `anonymous` = no signature at all (the caller decides
 * whether that is allowed); `refused` carries the error S3 would answer.
 *
 * @example
 * const result = verifySigV4({ method: req.method!, url: req.url!, headers: req.headers }, credentials);
 * if (result.kind === 'refused') answerS3Error(res, result.refusal);
 */
export function verifySigV4(request: SigV4Request, credentials: SigV4Credentials, now: number = Date.now()): SigV4Result {
  const q = request.url.indexOf('?');
  const rawPath = q === -1 ? request.url : request.url.slice(0, q);
  const query = parseQuery(q === -1 ? '' : request.url.slice(q + 1));
  const authorization = headerValue(request.headers, 'authorization');
  const queryAlgorithm = query.find(([name]) => name === 'X-Amz-Algorithm');
  if (authorization !== undefined && queryAlgorithm !== undefined) {
    return refused(400, 'InvalidArgument', 'Only one auth mechanism allowed; only the X-Amz-Algorithm query parameter or the Authorization header should be specified');
  }
  if (authorization !== undefined) return verifyHeaderForm(request, rawPath, query, authorization, credentials, now);
  if (queryAlgorithm !== undefined) return verifyQueryForm(request, rawPath, query, credentials, now);
  return { kind: 'anonymous' };
}

function verifyHeaderForm(
  request: SigV4Request,
  rawPath: string,
  query: Array<[string, string]>,
  authorization: string,
  credentials: SigV4Credentials,
  now: number,
): SigV4Result {
  const match = /^AWS4-HMAC-SHA256 Credential=([^,\s]+),\s*SignedHeaders=([^,\s]+),\s*Signature=([0-9a-f]{64})$/.exec(authorization.trim());
  if (!match) return refused(400, 'AuthorizationHeaderMalformed', 'The authorization header is malformed; expected Credential, SignedHeaders and Signature.');
  const [, credential, signedHeaders, signature] = match as unknown as [string, string, string, string];
  const amzDate = headerValue(request.headers, 'x-amz-date') ?? '';
  const time = parseAmzDate(amzDate);
  if (time === undefined) return refused(403, 'AccessDenied', 'AWS authentication requires a valid Date or x-amz-date header');
  if (Math.abs(now - time) > MAX_SKEW_MS) {
    return refused(403, 'RequestTimeTooSkewed', 'The difference between the request time and the current time is too large.', {
      RequestTime: amzDate,
      ServerTime: isoSeconds(now),
    });
  }
  const payloadHash = headerValue(request.headers, 'x-amz-content-sha256');
  if (payloadHash === undefined) return refused(400, 'InvalidRequest', 'Missing required header for this request: x-amz-content-sha256');
  return checkSignature({ request, rawPath, query, credential, signedHeaders, signature, amzDate, payloadHash, credentials, form: 'header' });
}

function verifyQueryForm(request: SigV4Request, rawPath: string, query: Array<[string, string]>, credentials: SigV4Credentials, now: number): SigV4Result {
  const param = (name: string): string | undefined => query.find(([n]) => n === name)?.[1];
  const [algorithm, credential, amzDate, expires, signedHeaders, signature] = [
    'X-Amz-Algorithm',
    'X-Amz-Credential',
    'X-Amz-Date',
    'X-Amz-Expires',
    'X-Amz-SignedHeaders',
    'X-Amz-Signature',
  ].map(param);
  if (algorithm !== ALGORITHM) return refused(400, 'AuthorizationQueryParametersError', 'X-Amz-Algorithm only supports "AWS4-HMAC-SHA256"');
  if (!credential || !amzDate || expires === undefined || !signedHeaders || !signature) {
    return refused(
      400,
      'AuthorizationQueryParametersError',
      'Query-string authentication version 4 requires the X-Amz-Algorithm, X-Amz-Credential, X-Amz-Signature, X-Amz-Date, X-Amz-SignedHeaders, and X-Amz-Expires parameters.',
    );
  }
  const time = parseAmzDate(amzDate);
  if (time === undefined) return refused(400, 'AuthorizationQueryParametersError', 'X-Amz-Date must be in the ISO8601 Long Format "yyyyMMdd\'T\'HHmmss\'Z\'"');
  if (!/^\d+$/.test(expires) || Number(expires) > MAX_PRESIGN_EXPIRES_S) {
    return refused(400, 'AuthorizationQueryParametersError', 'X-Amz-Expires must be a number of seconds from 0 to 604800 (a week)');
  }
  const checked = checkSignature({
    request,
    rawPath,
    query: query.filter(([name]) => name !== 'X-Amz-Signature'),
    credential,
    signedHeaders,
    signature,
    amzDate,
    payloadHash: param('X-Amz-Content-Sha256') ?? 'UNSIGNED-PAYLOAD',
    credentials,
    form: 'query',
  });
  if (checked.kind === 'refused') return checked;
  // Checked after the signature, as S3 does: an expired URL is one that was once valid.
  const expiresAt = time + Number(expires) * 1_000;
  if (now > expiresAt) {
    return refused(403, 'AccessDenied', 'Request has expired', { 'X-Amz-Expires': expires, Expires: isoSeconds(expiresAt), ServerTime: isoSeconds(now) });
  }
  return checked;
}

interface SignatureInput {
  request: SigV4Request;
  rawPath: string;
  /** Every query parameter that is signed (the header form signs them all; the query form all but the signature). */
  query: Array<[string, string]>;
  credential: string;
  signedHeaders: string;
  signature: string;
  amzDate: string;
  payloadHash: string;
  credentials: SigV4Credentials;
  form: 'header' | 'query';
}

function checkSignature(input: SignatureInput): SigV4Result {
  const { request, credentials } = input;
  // Credential = <key id>/<yyyymmdd>/<region>/s3/aws4_request; the key id itself may not hold '/'.
  const parts = input.credential.split('/');
  if (parts.length !== 5 || parts[3] !== 's3' || parts[4] !== 'aws4_request' || parts[1] !== input.amzDate.slice(0, 8)) {
    return refused(400, 'AuthorizationHeaderMalformed', `The credential scope is malformed: expected <key id>/${input.amzDate.slice(0, 8)}/<region>/s3/aws4_request.`);
  }
  const [accessKeyId, day, region] = parts as [string, string, string];
  if (accessKeyId !== credentials.accessKeyId) {
    return refused(403, 'InvalidAccessKeyId', 'The AWS Access Key Id you provided does not exist in our records.', { AWSAccessKeyId: accessKeyId });
  }
  if (region !== credentials.region) {
    return refused(400, 'AuthorizationHeaderMalformed', `The authorization header is malformed; the region '${region}' is wrong; expecting '${credentials.region}'`, {
      Region: credentials.region,
    });
  }
  const headerNames = input.signedHeaders.split(';');
  if (!headerNames.includes('host')) return refused(400, 'AuthorizationHeaderMalformed', 'The host header must be signed.');
  const canonicalHeaders = headerNames.map((name) => `${name}:${(headerValue(request.headers, name) ?? '').trim().replace(/\s+/g, ' ')}\n`).join('');
  const canonicalRequest = [
    request.method.toUpperCase(),
    canonicalPath(input.rawPath),
    canonicalQuery(input.query),
    canonicalHeaders,
    input.signedHeaders,
    input.payloadHash,
  ].join('\n');
  const scope = `${day}/${region}/s3/aws4_request`;
  const stringToSign = [ALGORITHM, input.amzDate, scope, sha256Hex(canonicalRequest)].join('\n');
  const signingKey = ['s3', 'aws4_request'].reduce((key, part) => hmac(key, part), hmac(hmac(`AWS4${credentials.secretAccessKey}`, day), region));
  const expected = Buffer.from(createHmac('sha256', signingKey).update(stringToSign).digest('hex'));
  const given = Buffer.from(input.signature);
  if (expected.length !== given.length || !timingSafeEqual(expected, given)) {
    return refused(403, 'SignatureDoesNotMatch', 'The request signature we calculated does not match the signature you provided. Check your key and signing method.', {
      AWSAccessKeyId: accessKeyId,
    });
  }
  return { kind: 'signed', form: input.form };
}

/** S3 encodes the path once, segment by segment: every byte but unreserved ones, `/` kept. */
function canonicalPath(rawPath: string): string {
  return rawPath
    .split('/')
    .map((segment) => uriEncode(safeDecode(segment)))
    .join('/');
}

function canonicalQuery(query: Array<[string, string]>): string {
  return query
    .map(([name, value]): [string, string] => [uriEncode(name), uriEncode(value)])
    .sort(([a, av], [b, bv]) => (a < b ? -1 : a > b ? 1 : av < bv ? -1 : av > bv ? 1 : 0))
    .map(([name, value]) => `${name}=${value}`)
    .join('&');
}

function parseQuery(raw: string): Array<[string, string]> {
  if (raw === '') return [];
  return raw.split('&').map((pair) => {
    const eq = pair.indexOf('=');
    return eq === -1 ? [safeDecode(pair), ''] : [safeDecode(pair.slice(0, eq)), safeDecode(pair.slice(eq + 1))];
  });
}

function uriEncode(text: string): string {
  return encodeURIComponent(text).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
}

function safeDecode(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    return text;
  }
}

function headerValue(headers: IncomingHttpHeaders, name: string): string | undefined {
  const value = headers[name];
  return Array.isArray(value) ? value.join(',') : value;
}

function parseAmzDate(text: string): number | undefined {
  const m = AMZ_DATE.exec(text);
  if (!m) return undefined;
  const [, y, mo, d, h, mi, s] = m.map(Number) as [number, number, number, number, number, number, number];
  return Date.UTC(y, mo - 1, d, h, mi, s);
}

function isoSeconds(ms: number): string {
  return new Date(ms).toISOString().replace(/\.\d+Z$/, 'Z');
}

function hmac(key: string | Buffer, data: string): Buffer {
  return createHmac('sha256', key).update(data).digest();
}

function sha256Hex(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}

function refused(status: number, code: string, message: string, detail?: Record<string, string>): SigV4Result {
  return { kind: 'refused', refusal: { status, code, message, ...(detail ? { detail } : {}) } };
}
