/**
 * Each Lambda function signs its S3 requests with its own key in local mode, as each has its own
 * role in AWS, and the embedded S3 holds every key to its function's statements from the grants
 * table (lambda/shared/grants.ts). A handler that needs a grant the stack does not give is refused
 * here as it would be there. The secrets derive from the service's signing secret, so they stay
 * the same across restarts and are not guessable from outside.
 */
import { createHmac } from 'node:crypto';
import { SERVICE_FUNCTIONS, grantStatements, type BucketAccess, type ServiceFunctionName } from '../lambda/shared/grants';
import type { LogicalBucket } from '../lambda/shared/keys';
import { bucketArn } from './s3/iam';
import type { S3Principal } from './s3/server';

export interface Credentials {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken?: string;
}

/** Grants per function and bucket: the table's, or a changed copy (tests). */
export type FunctionGrants = Record<ServiceFunctionName, Record<LogicalBucket, readonly BucketAccess[]>>;

export const FUNCTION_NAMES = Object.keys(SERVICE_FUNCTIONS) as ServiceFunctionName[];

export function tableGrants(): FunctionGrants {
  return Object.fromEntries(FUNCTION_NAMES.map((fn) => [fn, SERVICE_FUNCTIONS[fn].buckets])) as FunctionGrants;
}

export function functionCredentials(secret: string): Record<ServiceFunctionName, Credentials> {
  return Object.fromEntries(
    FUNCTION_NAMES.map((fn) => [
      fn,
      {
        // AWS key ids are 20 upper-case characters; these say whose they are.
        accessKeyId: `LOCAL${fn.toUpperCase()}FUNCTION`.padEnd(20, 'X').slice(0, 20),
        secretAccessKey: createHmac('sha256', secret).update(`s3-key:${fn}`).digest('base64').slice(0, 40),
      },
    ]),
  ) as Record<ServiceFunctionName, Credentials>;
}

/** The embedded S3's principals: one per function, with its role's statements for these buckets. */
export function functionPrincipals(
  credentials: Record<ServiceFunctionName, Credentials>,
  buckets: Record<LogicalBucket, string>,
  grants: FunctionGrants = tableGrants(),
): S3Principal[] {
  const arns = { uploads: bucketArn(buckets.uploads), results: bucketArn(buckets.results) };
  return FUNCTION_NAMES.map((fn) => ({
    name: fn,
    accessKeyId: credentials[fn].accessKeyId,
    secretAccessKey: credentials[fn].secretAccessKey,
    policy: grantStatements(fn, arns, grants[fn]),
  }));
}
