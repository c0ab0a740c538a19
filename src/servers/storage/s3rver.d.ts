// Types for the parts of s3rver 3.x (no types of its own) that src/servers/storage/s3Server.ts uses.
declare module 's3rver' {
  import type { IncomingMessage, ServerResponse } from 'node:http';
  import type { EventEmitter } from 'node:events';

  interface S3rverOptions {
    address?: string;
    port?: number;
    silent?: boolean;
    directory?: string;
    resetOnClose?: boolean;
    allowMismatchedSignatures?: boolean;
    vhostBuckets?: boolean;
    configureBuckets?: Array<{ name: string; configs?: Array<string | Buffer> }>;
  }

  class S3rver extends EventEmitter {
    constructor(options?: S3rverOptions);
    /** Creates the `configureBuckets` buckets in the store. */
    configureBuckets(): Promise<void>;
    /** The Koa request handler, for a server of one's own. */
    callback(): (req: IncomingMessage, res: ServerResponse) => void;
    /** Its winston logger; closed by s3rver itself only when it owns the HTTP server. */
    logger: { close(): void; exceptions: { unhandle(): void } };
  }
  export default S3rver;
}
