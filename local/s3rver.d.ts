// Minimal types for s3rver 3.x (it ships none): only what local/s3-server.ts uses.
declare module 's3rver' {
  import type { AddressInfo } from 'node:net';
  interface S3rverOptions {
    port?: number;
    address?: string;
    silent?: boolean;
    directory?: string;
    vhostBuckets?: boolean;
    allowMismatchedSignatures?: boolean;
    resetOnClose?: boolean;
    configureBuckets?: { name: string; configs?: (string | Buffer)[] }[];
  }
  class S3rver {
    constructor(options?: S3rverOptions);
    run(): Promise<AddressInfo>;
    close(): Promise<void>;
    /** koa's middleware stack, run in array order; the router is already on it after construction. */
    middleware: ((ctx: never, next: () => Promise<unknown>) => unknown)[];
    on(event: string, listener: (...args: never[]) => void): this;
  }
  export default S3rver;
}
