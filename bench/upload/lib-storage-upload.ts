/**
 * The baseline for bench/upload: `@aws-sdk/lib-storage` `Upload` straight to the S3 endpoint, in
 * its own process like the CLI. Usage: tsx lib-storage-upload.ts <file> <json: endpoint, region,
 * credentials, bucket, key, partSize, queueSize>. Prints the elapsed milliseconds.
 */
import { createReadStream } from 'node:fs';
import { S3Client } from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';

async function main(): Promise<void> {
  const [file, json] = process.argv.slice(2);
  if (!file || !json) throw new Error('usage: lib-storage-upload.ts <file> <options json>');
  const o = JSON.parse(json) as {
    endpoint: string;
    region: string;
    accessKeyId: string;
    secretAccessKey: string;
    bucket: string;
    key: string;
    partSize: number;
    queueSize: number;
  };
  const client = new S3Client({
    endpoint: o.endpoint,
    forcePathStyle: true,
    region: o.region,
    credentials: { accessKeyId: o.accessKeyId, secretAccessKey: o.secretAccessKey },
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
  });
  const started = performance.now();
  await new Upload({
    client,
    params: { Bucket: o.bucket, Key: o.key, Body: createReadStream(file), ContentType: 'application/octet-stream' },
    partSize: o.partSize,
    queueSize: o.queueSize,
  }).done();
  process.stdout.write(`${Math.round(performance.now() - started)}\n`);
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
