/**
 * What the API server's routes share: how a value is named in an error, the first problem of a
 * body that failed its schema, and the error body each route family answers with.
 */
import type { z } from 'zod';
import type { RelayResponseJson } from '../../protocol/relayerResponse.ts';

/** `/api/trusted-server` and `/poll` responses. */
export type TrustedServerResponse<T> = { success: true; data: T } | { success: false; error: string };

/** A value as an error message shows it. */
export function describe(value: unknown): string {
  return value === undefined ? 'nothing' : JSON.stringify(value);
}

/** `field.path: message` of the first issue. */
export function firstIssue(error: z.ZodError): string {
  const issue = error.issues[0];
  return `${issue?.path.map(String).join('.') || '(body)'}: ${issue?.message ?? 'invalid'}`;
}

/** Who answers the client for a failed request, by route. */
export function errorBody(url: string, error: string): RelayResponseJson | TrustedServerResponse<never> | { error: string } {
  if (url.startsWith('/api/relay')) return { type: 'error', error };
  if (url.startsWith('/api/trusted-server')) return { success: false, error };
  return { error };
}
