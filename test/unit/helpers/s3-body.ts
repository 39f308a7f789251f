import { Readable } from 'node:stream';
import type { GetObjectCommandOutput } from '@aws-sdk/client-s3';

/** A GetObject Body as the SDK returns it in Node: a Readable with the SDK's transform helpers. */
export function s3Body(data: string | Uint8Array): GetObjectCommandOutput['Body'] {
  const bytes = typeof data === 'string' ? Buffer.from(data, 'utf8') : Buffer.from(data);
  const stream = Readable.from([bytes]);
  return Object.assign(stream, {
    transformToByteArray: async () => new Uint8Array(bytes),
    transformToString: async (encoding?: string) => bytes.toString((encoding ?? 'utf8') as BufferEncoding),
    transformToWebStream: () => {
      throw new Error('not used in tests');
    },
  }) as unknown as GetObjectCommandOutput['Body'];
}
