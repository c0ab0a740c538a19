/**
 * What the storage tests share (imported by `*.test.ts` only): catching a `StorageError`, and a raw
 * HTTP server with a scripted handler for answers the real stores never give.
 */
import { createServer, type Server } from 'node:http';
import { expect } from 'vitest';
import { StorageError } from './StorageProvider.ts';

/** Runs `fn` and returns what it threw, failing the test if it did not throw a StorageError. */
export async function storageError(fn: () => Promise<unknown>): Promise<StorageError> {
  const err = await fn().then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(StorageError);
  return err as StorageError;
}

/** Starts a server on a free loopback port with `handler`; stop it with `closeRawServer`. */
export async function startRawServer(handler: Parameters<typeof createServer>[1]): Promise<{ url: string; server: Server }> {
  const server = createServer(handler);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('Expected a TCP address');
  return { url: `http://127.0.0.1:${address.port}`, server };
}

export async function closeRawServer(server: Server): Promise<void> {
  // A server that never answers keeps its sockets open; close() alone would wait for them.
  server.closeAllConnections();
  await new Promise<void>((resolve) => server.close(() => resolve()));
}
