/**
 * `/api/trusted-server` and `/api/trusted-server/poll`: operation requests signed with the app
 * (grantee) key and forwarded to the personal server; its failures passed on with their status
 * (and `Retry-After`), so the client's error classes match the server's.
 */
import type { FastifyInstance, FastifyReply } from 'fastify';
import type { LocalAccount } from 'viem';
import { z } from 'zod';
import {
  createOperationResponseSchema,
  operationRequestJson,
  operationStatusSchema,
  personalServerErrorBodySchema,
  type CreateOperationRequest,
  type OperationStatusValue,
} from '../../protocol/personalServerApi.ts';
import { describe, firstIssue, type TrustedServerResponse } from './apiBodies.ts';
import type { PersonalServerClient } from './personalServerClient.ts';

const trustedServerBody = z.object(
  {
    permissionId: z.unknown().transform((value, ctx): number => {
      const n = typeof value === 'string' && /^(0|[1-9][0-9]*)$/.test(value) ? Number(value) : value;
      if (typeof n === 'number' && Number.isSafeInteger(n) && n > 0) return n;
      ctx.addIssue({ code: 'custom', message: `Expected a permission id as a positive integer or decimal string, got ${describe(value)}` });
      return z.NEVER;
    }),
  },
  { error: (iss) => `Expected a JSON object, got ${describe(iss.input)}` },
);

const pollBody = z.object(
  {
    operationId: z.unknown().transform((value, ctx): string => {
      if (typeof value === 'string' && /^[A-Za-z0-9_.:-]{1,200}$/.test(value)) return value;
      ctx.addIssue({ code: 'custom', message: `Expected an operation id (1-200 of [A-Za-z0-9_.:-]), got ${describe(value)}` });
      return z.NEVER;
    }),
    chainId: z
      .unknown()
      .transform((value, ctx): number => {
        if (typeof value === 'number' && Number.isSafeInteger(value) && value > 0) return value;
        ctx.addIssue({ code: 'custom', message: `Expected a positive integer chain id, got ${describe(value)}` });
        return z.NEVER;
      })
      .optional(),
  },
  { error: (iss) => `Expected a JSON object, got ${describe(iss.input)}` },
);

/** The error text a personal server put in its body (FastAPI nests it under `detail`). */
function personalServerError(body: unknown, status: number): string {
  const fallback = `personal server answered ${status}`;
  const parsed = personalServerErrorBodySchema.safeParse(body);
  if (parsed.success) return `${fallback}: ${parsed.data.detail.error_code}: ${parsed.data.detail.detail}`;
  return typeof body === 'string' && body ? `${fallback}: ${body.slice(0, 200)}` : fallback;
}

export interface TrustedServerRoutesParameters {
  chainId: number;
  appAccount: LocalAccount;
  personalServer: PersonalServerClient;
  /** The personal server's base URL, for error messages. */
  psBase: string;
  personalServerTimeoutMs: number;
}

/**
 * Registers `POST /api/trusted-server` and `POST /api/trusted-server/poll` on `app`.
 *
 * @example
 * registerTrustedServerRoutes(app, { chainId, appAccount, personalServer, psBase, personalServerTimeoutMs: 30_000 });
 */
export function registerTrustedServerRoutes(
  app: FastifyInstance,
  { chainId, appAccount, personalServer, psBase, personalServerTimeoutMs }: TrustedServerRoutesParameters,
): void {
  const callPersonalServer = (path: string, init: { method: 'GET' | 'POST'; body?: string }) => personalServer.request(path, init);

  function forwardFailure(reply: FastifyReply, status: number, body: unknown, retryAfter: string | null): TrustedServerResponse<never> {
    // Same status, so the client's classes (rate_limited, http_4xx, http_5xx) match the server's.
    void reply.status(status >= 400 && status <= 599 ? status : 502);
    if (retryAfter !== null) void reply.header('retry-after', retryAfter);
    return { success: false, error: personalServerError(body, status) };
  }

  function unreachable(reply: FastifyReply, err: unknown): TrustedServerResponse<never> {
    const timedOut = err instanceof Error && (err.name === 'TimeoutError' || err.name === 'AbortError');
    void reply.status(timedOut ? 504 : 502);
    const reason = timedOut ? `no answer within ${personalServerTimeoutMs} ms` : err instanceof Error ? (err.cause instanceof Error ? err.cause.message : err.message) : String(err);
    return { success: false, error: `personal server ${psBase} unreachable: ${reason}` };
  }

  app.post('/api/trusted-server', async (request, reply): Promise<TrustedServerResponse<{ id: string }>> => {
    const parsed = trustedServerBody.safeParse(request.body);
    if (!parsed.success) {
      void reply.status(400);
      return { success: false, error: firstIssue(parsed.error) };
    }
    // The personal server checks the app signature over these exact bytes (PROTOCOL.md 9).
    const json = operationRequestJson(parsed.data.permissionId);
    const body: CreateOperationRequest = { app_signature: await appAccount.signMessage({ message: json }), operation_request_json: json };
    let result: Awaited<ReturnType<typeof callPersonalServer>>;
    try {
      result = await callPersonalServer('/operations', { method: 'POST', body: JSON.stringify(body) });
    } catch (err) {
      return unreachable(reply, err);
    }
    if (result.status >= 300) return forwardFailure(reply, result.status, result.body, result.retryAfter);
    const created = createOperationResponseSchema.safeParse(result.body);
    if (!created.success) {
      void reply.status(502);
      return { success: false, error: `personal server answered ${result.status} with no OperationCreated body: ${firstIssue(created.error)}` };
    }
    return { success: true, data: { id: created.data.id } };
  });

  app.post('/api/trusted-server/poll', async (request, reply): Promise<TrustedServerResponse<{ status: OperationStatusValue; result: string | null }>> => {
    const parsed = pollBody.safeParse(request.body);
    if (!parsed.success) {
      void reply.status(400);
      return { success: false, error: firstIssue(parsed.error) };
    }
    if (parsed.data.chainId !== undefined && parsed.data.chainId !== chainId) {
      void reply.status(400);
      return { success: false, error: `chainId: Expected ${chainId}, got ${parsed.data.chainId}` };
    }
    let result: Awaited<ReturnType<typeof callPersonalServer>>;
    try {
      result = await callPersonalServer(`/operations/${encodeURIComponent(parsed.data.operationId)}`, { method: 'GET' });
    } catch (err) {
      return unreachable(reply, err);
    }
    if (result.status >= 300) return forwardFailure(reply, result.status, result.body, result.retryAfter);
    const operation = operationStatusSchema.safeParse(result.body);
    if (!operation.success) {
      void reply.status(502);
      return { success: false, error: `personal server answered ${result.status} with no OperationStatus body: ${firstIssue(operation.error)}` };
    }
    return { success: true, data: { status: operation.data.status, result: operation.data.result ?? null } };
  });
}
