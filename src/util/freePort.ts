import { createServer } from 'node:net';

/**
 * Asks the OS for a free TCP port on 127.0.0.1. The port is released before returning, so a
 * race with another process is possible but rare; callers that bind must still handle EADDRINUSE.
 */
export async function freePort(host = '127.0.0.1'): Promise<number> {
  return await new Promise<number>((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.once('error', reject);
    server.listen(0, host, () => {
      const address = server.address();
      if (address === null || typeof address === 'string') {
        server.close();
        reject(new Error(`Expected a TCP address from listen(0), got ${String(address)}`));
        return;
      }
      server.close(() => resolve(address.port));
    });
  });
}
