/**
 * Starts a local server listening and resolves with its port once it is (rejects if it cannot,
 * e.g. the port is taken): the one way every local server (gateway, S3, SQS, Secrets Manager,
 * Cognito) starts.
 */
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export function listen(server: Server, port: number, host: string): Promise<number> {
  return new Promise((resolvePort, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolvePort((server.address() as AddressInfo).port);
    });
  });
}
