/**
 * The grant file (PROTOCOL.md 7): a JSON document, stored off-chain, whose URL is the on-chain
 * `grant`. It tells the personal server which operation the grantee may run on the user's data.
 * The schema is the SDK's draft-07 one: additionalProperties false, grantee/operation/parameters
 * required, expires optional.
 */
import { z } from 'zod';
import type { Address } from 'viem';
import { VanaLoadError } from '../errors.ts';

/** A valid grant file. `parameters` is free-form; for `llm_inference` it holds prompt and response_format. */
export interface GrantFile {
  grantee: Address;
  operation: string;
  parameters: Record<string, unknown>;
  /** Unix seconds after which the grant is void. */
  expires?: number;
}

export interface BuildGrantFileParameters {
  /** The grantee (application) address, as registered on chain. */
  grantee: Address;
  operation?: 'llm_inference';
  /** Prompt template; the personal server substitutes `{{data}}` with the decrypted file. */
  prompt: string;
  /** Omitted from the file when not given. */
  responseFormat?: 'text' | 'json_object';
  /** Unix seconds. */
  expires?: number;
}

/** An error map: "required" when the field is absent, else "expected <what>, got <value>". */
function expected(what: string): (issue: { input?: unknown }) => string {
  return (issue) => (issue.input === undefined ? 'required' : `expected ${what}, got ${describe(issue.input)}`);
}

const grantFileSchema = z.strictObject(
  {
    grantee: z
      .string({ error: expected('a string') })
      .regex(/^0x[0-9a-fA-F]{40}$/, { error: expected('0x and 40 hex digits') }),
    operation: z.string({ error: expected('a string') }).min(1, { error: 'expected a non-empty string' }),
    parameters: z.record(z.string(), z.unknown(), { error: expected('an object') }),
    expires: z
      .number({ error: expected('an integer >= 0 (Unix seconds)') })
      .refine((n) => Number.isInteger(n) && n >= 0, { error: expected('an integer >= 0 (Unix seconds)') })
      .optional(),
  },
  { error: (issue) => (issue.code === 'invalid_type' ? `expected a JSON object, got ${describe(issue.input)}` : undefined) },
);

/**
 * Builds an `llm_inference` grant file, in the shape the original load test uploaded.
 *
 * @param params - Grantee, prompt, optional response format and expiry.
 * @returns The grant file, validated.
 * @throws VanaLoadError `GRANT_INVALID` if a field breaks the schema (e.g. a malformed grantee).
 *
 * @example
 * const grant = buildGrantFile({ grantee, prompt: 'Summarise: {{data}}', responseFormat: 'json_object' });
 */
export function buildGrantFile({ grantee, operation = 'llm_inference', prompt, responseFormat, expires }: BuildGrantFileParameters): GrantFile {
  const parameters: Record<string, unknown> = { prompt };
  if (responseFormat !== undefined) parameters.response_format = { type: responseFormat };
  return validateGrantFile(expires === undefined ? { grantee, operation, parameters } : { grantee, operation, parameters, expires });
}

/**
 * Serializes a grant file as the original load test did: `JSON.stringify(grant, null, 2)`.
 *
 * @param grant - The grant file.
 * @returns Pretty-printed JSON, two-space indent, no trailing newline.
 *
 * @example
 * await storage.upload(new TextEncoder().encode(serializeGrantFile(grant)));
 */
export function serializeGrantFile(grant: GrantFile): string {
  return JSON.stringify(grant, null, 2);
}

/**
 * Checks a parsed JSON value against the grant-file schema of PROTOCOL.md 7.
 *
 * @param json - The value of `JSON.parse(fileText)`.
 * @returns The same content, typed.
 * @throws VanaLoadError `GRANT_INVALID` naming the first bad field; every problem is in `metaMessages`.
 *
 * @example
 * const grant = validateGrantFile(JSON.parse(text));
 */
export function validateGrantFile(json: unknown): GrantFile {
  const result = grantFileSchema.safeParse(json);
  if (result.success) {
    const { grantee, operation, parameters, expires } = result.data;
    return expires === undefined
      ? { grantee: grantee as Address, operation, parameters }
      : { grantee: grantee as Address, operation, parameters, expires };
  }
  const problems = result.error.issues.map(describeIssue);
  throw new VanaLoadError(`Invalid grant file: ${problems[0]}`, {
    code: 'GRANT_INVALID',
    metaMessages: problems.length > 1 ? problems.map((p) => `- ${p}`) : [],
  });
}

function describeIssue(issue: z.core.$ZodIssue): string {
  if (issue.code === 'unrecognized_keys') {
    return `unexpected field${issue.keys.length > 1 ? 's' : ''} ${issue.keys.map((k) => JSON.stringify(k)).join(', ')}`;
  }
  return issue.path.length === 0 ? issue.message : `${issue.path.join('.')}: ${issue.message}`;
}

function describe(value: unknown): string {
  if (value === undefined) return 'nothing';
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  if (typeof value === 'string') return JSON.stringify(value.length > 60 ? `${value.slice(0, 60)}…` : value);
  if (typeof value === 'number') return String(value);
  return typeof value === 'object' ? 'an object' : typeof value;
}
