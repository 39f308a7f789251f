/**
 * Local mode's S3: the embedded server (its own keys per function, held to the grants table), or an
 * external S3-compatible server given by its endpoint (the keys given, buckets created when
 * missing). Either way the service gets one admin client and the keys each function signs with.
 */
import { join } from 'node:path';
import { CreateBucketCommand, PutBucketCorsCommand, type S3Client } from '@aws-sdk/client-s3';
import { createS3Client } from '../lambda/shared/clients';
import type { ServiceFunctionName } from '../lambda/shared/grants';
import { FUNCTION_NAMES, functionCredentials, functionPrincipals, type Credentials, type FunctionGrants } from './function-keys';
import { bucketCorsRule } from './s3/cors';
import { ADMIN_CREDENTIALS, startEmbeddedS3, type EmbeddedS3 } from './s3/server';

export interface StorageOptions {
  dataDir: string;
  host: string;
  region: string;
  buckets: { uploads: string; results: string };
  corsOrigins: string[];
  /** The embedded server's port. */
  s3Port: number;
  /** The secret the functions' keys derive from. */
  signingSecret: string;
  /** An external server instead of the embedded one. */
  s3Endpoint?: string;
  credentials?: Credentials;
  functionCredentials?: Record<ServiceFunctionName, Credentials>;
  grants?: FunctionGrants;
  log: (line: string) => void;
}

export interface Storage {
  endpoint: string;
  /** The service's own keys (the admin key of the embedded server). */
  credentials: Credentials;
  /** The key each function signs with. */
  functionCredentials: Record<ServiceFunctionName, Credentials>;
  /** A client with the service's keys. */
  s3: S3Client;
  /** Set when the server is the embedded one, whose events the service hears in-process. */
  embedded?: EmbeddedS3;
  stop(): Promise<void>;
}

export async function startStorage(options: StorageOptions): Promise<Storage> {
  const { buckets, log } = options;
  if (options.s3Endpoint) {
    const endpoint = options.s3Endpoint.replace(/\/+$/, '');
    const credentials = options.credentials ?? {
      accessKeyId: process.env.AWS_ACCESS_KEY_ID ?? 'test',
      secretAccessKey: process.env.AWS_SECRET_ACCESS_KEY ?? 'test',
      ...(process.env.AWS_SESSION_TOKEN ? { sessionToken: process.env.AWS_SESSION_TOKEN } : {}),
    };
    const s3 = createS3Client({ region: options.region, s3Endpoint: endpoint }, { credentials });
    try {
      await ensureBuckets(s3, [buckets.uploads, buckets.results], options.corsOrigins, log);
    } catch (err) {
      s3.destroy();
      throw err;
    }
    return {
      endpoint,
      credentials,
      // An external server holds no one to our grants: every function uses the keys given.
      functionCredentials: options.functionCredentials ?? (Object.fromEntries(FUNCTION_NAMES.map((fn) => [fn, credentials])) as Record<ServiceFunctionName, Credentials>),
      s3,
      stop: async () => s3.destroy(),
    };
  }
  const fnCredentials = functionCredentials(options.signingSecret);
  const embedded = await startEmbeddedS3({
    directory: join(options.dataDir, 's3'),
    port: options.s3Port,
    host: options.host,
    region: options.region,
    buckets: [buckets.uploads, buckets.results],
    corsOrigins: options.corsOrigins,
    principals: functionPrincipals(fnCredentials, buckets, options.grants),
    log,
  });
  const credentials = { ...ADMIN_CREDENTIALS };
  const s3 = createS3Client({ region: options.region, s3Endpoint: embedded.endpoint }, { credentials });
  return {
    endpoint: embedded.endpoint,
    credentials,
    functionCredentials: fnCredentials,
    s3,
    embedded,
    stop: async () => {
      s3.destroy();
      await embedded.close();
    },
  };
}

/** Creates the buckets on an external server when missing, with CORS where it is supported. */
async function ensureBuckets(s3: S3Client, names: string[], corsOrigins: string[], log: (l: string) => void): Promise<void> {
  for (const Bucket of names) {
    try {
      await s3.send(new CreateBucketCommand({ Bucket }));
    } catch (err) {
      const name = (err as { name?: string }).name;
      if (name !== 'BucketAlreadyOwnedByYou' && name !== 'BucketAlreadyExists') throw err;
    }
    try {
      await s3.send(new PutBucketCorsCommand({ Bucket, CORSConfiguration: { CORSRules: [bucketCorsRule(corsOrigins)] } }));
    } catch (err) {
      log(`bucket ${Bucket}: CORS not set (${(err as Error).name}); browsers may be refused`);
    }
  }
}
