/**
 * The grants table: for each of the service's functions, its Lambda settings, exactly which S3
 * access it has to each data bucket, and which signing keys (Secrets Manager secrets) it may read. It is the single source of truth for what a function may do:
 * the CDK stack builds the functions and their IAM policies from it
 * (lib/constructs/service-function.ts), local mode's embedded S3 is to evaluate the same
 * statements, and test/infra compares it with the synthesized template.
 *
 * Plain data and functions, no aws-cdk-lib: the runtime and local mode import this module, and a
 * bundle must not pay for CDK at cold start.
 */
import { COMPLETIONS_ROOT, FAN_OUT_ROOT, LOGICAL_BUCKETS, USER_ROOT, type LogicalBucket } from './keys';
import type { ApiFunctionName } from './routes';
import type { SigningKeyPurpose } from './signing-keys';

/**
 * The API functions of the route table, the S3-event processor, and the three steps of the fan-out
 * state machine that profiles objects too big for one pass (lib/constructs/fan-out.ts).
 */
export type ServiceFunctionName = ApiFunctionName | 'process' | FanOutFunctionName;
export type FanOutFunctionName = 'fanOutPlan' | 'fanOutRange' | 'fanOutMerge';

/**
 * One kind of access to a bucket. Object actions on users' data are only ever on the user area
 * (`<bucket>/users/*`): the handlers keep each caller inside `users/<their sub>/`.
 * - list: s3:ListBucket, only for prefixes under `users/` (the `s3:prefix` condition)
 * - exists: s3:ListBucket unconditioned, so GetObject/HeadObject of a missing key is 404, not 403
 *   (S3 answers 403 to a caller who may not list, so as not to reveal whether the key exists);
 *   it reveals key names to the function, never bodies
 * - read: s3:GetObject
 * - write: s3:PutObject
 * - writeMultipart: s3:PutObject, s3:AbortMultipartUpload, s3:ListMultipartUploadParts
 * - delete: s3:DeleteObject
 * - completionClaims: s3:GetObject, s3:PutObject, s3:DeleteObject on `<bucket>/completions/*` only,
 *   the upload function's record of which request completes each upload (no user data there)
 * - putFanOutParts: s3:PutObject on `<bucket>/fan-out/*` only, where a range worker leaves its
 *   partial profile
 * - takeFanOutParts: s3:GetObject, s3:DeleteObject on `<bucket>/fan-out/*` only: the merge reads
 *   the partial profiles and removes them
 */
export type BucketAccess = 'list' | 'exists' | 'read' | 'write' | 'delete' | 'writeMultipart' | 'completionClaims' | 'putFanOutParts' | 'takeFanOutParts';

export interface ServiceFunctionSpec {
  description: string;
  memorySize: number;
  timeoutSeconds: number;
  /** The access to each data bucket, in the order the statements are generated; [] for none. */
  buckets: Record<LogicalBucket, readonly BucketAccess[]>;
  /**
   * The signing keys it uses (lambda/shared/signing-keys.ts): it may read only these secrets
   * (secretsmanager:GetSecretValue), fetches them at cold start, and gets their ids, not values,
   * in its environment. [] for none.
   */
  keys: readonly SigningKeyPurpose[];
  /** It starts executions of the fan-out state machine (states:StartExecution on that one state machine). */
  startsFanOut: boolean;
}

/** API Gateway gives up after 29 s; an API request that takes 10 s is already broken. */
const API_FUNCTION = { memorySize: 512, timeoutSeconds: 10 } as const;

/**
 * Every function of the service. The grants are as narrow as each job: the lister cannot read
 * bodies, the reader cannot write, the uploader cannot read.
 */
export const SERVICE_FUNCTIONS: Record<ServiceFunctionName, ServiceFunctionSpec> = {
  list: {
    description: 'Lists buckets and the caller’s objects',
    ...API_FUNCTION,
    buckets: { uploads: ['list'], results: ['list'] },
    keys: ['cursor'],
    startsFanOut: false,
  },
  read: {
    description: 'Reads objects and their metadata (inline or presigned GET)',
    ...API_FUNCTION,
    buckets: { uploads: ['exists', 'read'], results: ['exists', 'read'] },
    keys: [],
    startsFanOut: false,
  },
  upload: {
    description: 'Upload sessions (presigned PUT, multipart) and deletes',
    ...API_FUNCTION,
    // Deleting an object through the API deletes its profile too; completing an upload claims it
    // first, so that of two requests completing it at once only one does (core/completion-claims.ts).
    buckets: { uploads: ['writeMultipart', 'delete'], results: ['delete', 'completionClaims'] },
    // Upload ids.
    keys: ['upload'],
    startsFanOut: false,
  },
  process: {
    description: 'Profiles each uploaded object into the results bucket',
    // Profiling is CPU-bound and Lambda gives CPU in proportion to memory: 3,538 MB is two vCPUs,
    // the least at which the processor's range threads help (one per vCPU, lambda/core/ranged-profile.ts).
    // CPU-bound seconds cost about what they did at 1,024 MB (0.58 vCPU: 3.45x the memory for
    // 3.45x the CPU); the I/O waits of small objects cost 3.45x (README, "Processing on all cores").
    // The queue's visibility timeout is derived from this timeout (lib/constructs/processing.ts).
    memorySize: 3538,
    timeoutSeconds: 300,
    // `exists` on results: before writing, the processor reads the profile already there, and for
    // a new object there is none; without ListBucket S3 answers that read with 403, not 404, and no
    // first profile is ever written. `exists` on uploads: an object deleted before processing is
    // a 404, so it is skipped.
    buckets: { uploads: ['exists', 'read'], results: ['exists', 'read', 'write'] },
    keys: [],
    // Objects over the fan-out threshold, or whose one-pass estimate exceeds the time left, are
    // handed to the fan-out state machine.
    startsFanOut: true,
  },
  fanOutPlan: {
    description: 'Fan-out: plans the byte ranges of an object too big for one pass',
    // HEAD and the first bytes (the header) only.
    memorySize: 512,
    timeoutSeconds: 60,
    buckets: { uploads: ['exists', 'read'], results: [] },
    keys: [],
    startsFanOut: false,
  },
  fanOutRange: {
    description: 'Fan-out: profiles one byte range into a partial profile',
    // Ranges are sized to take well under a minute; a gzip object is one range (it cannot be
    // split), which gets Lambda's longest timeout and, past its deadline, a truncated profile.
    memorySize: 1769, // one full vCPU
    timeoutSeconds: 900,
    // No `exists`: the plan has just seen the object; one deleted since is refused (403) rather
    // than missing (404), and the run fails into the dead letters, whose replay the plan then skips.
    buckets: { uploads: ['read'], results: ['putFanOutParts'] },
    keys: [],
    startsFanOut: false,
  },
  fanOutMerge: {
    description: 'Fan-out: checks range boundaries, merges partial profiles and writes the profile',
    // Re-runs a range whose first-record guess was wrong, so it reads uploads too; writes the
    // profile with the processor's conditional write, which reads the stored one first.
    memorySize: 1769,
    timeoutSeconds: 900,
    buckets: { uploads: ['read'], results: ['exists', 'read', 'write', 'takeFanOutParts'] },
    keys: [],
    startsFanOut: false,
  },
};

/** One Allow statement of IAM policy, as data (the stack turns it into a PolicyStatement). */
export interface GrantStatement {
  actions: string[];
  resources: string[];
  conditions?: Record<string, Record<string, string[]>>;
}

/** The user area every object grant and listing is limited to. */
const USER_AREA = `${USER_ROOT}*`;

const OBJECT_ACTIONS: Record<Exclude<BucketAccess, 'list' | 'exists'>, readonly string[]> = {
  read: ['s3:GetObject'],
  write: ['s3:PutObject'],
  writeMultipart: ['s3:PutObject', 's3:AbortMultipartUpload', 's3:ListMultipartUploadParts'],
  delete: ['s3:DeleteObject'],
  // GetObject: to tell a completed upload from one being completed, and for If-Match on PutObject.
  completionClaims: ['s3:GetObject', 's3:PutObject', 's3:DeleteObject'],
  putFanOutParts: ['s3:PutObject'],
  takeFanOutParts: ['s3:GetObject', 's3:DeleteObject'],
};

/** The statement one kind of access to the bucket `bucketArn` needs. */
function accessStatement(access: BucketAccess, bucketArn: string): GrantStatement {
  switch (access) {
    case 'list':
      return { actions: ['s3:ListBucket'], resources: [bucketArn], conditions: { StringLike: { 's3:prefix': [USER_AREA] } } };
    case 'exists':
      return { actions: ['s3:ListBucket'], resources: [bucketArn] };
    case 'completionClaims':
      return { actions: [...OBJECT_ACTIONS[access]], resources: [`${bucketArn}/${COMPLETIONS_ROOT}*`] };
    case 'putFanOutParts':
    case 'takeFanOutParts':
      return { actions: [...OBJECT_ACTIONS[access]], resources: [`${bucketArn}/${FAN_OUT_ROOT}*`] };
    default:
      return { actions: [...OBJECT_ACTIONS[access]], resources: [`${bucketArn}/${USER_AREA}`] };
  }
}

/**
 * The IAM statements (all Allow) that give `fn` its access in SERVICE_FUNCTIONS, for buckets with
 * the given ARNs (concrete ARNs, or CDK tokens in the stack). One statement per kind of access,
 * buckets in LOGICAL_BUCKETS order, each bucket's kinds in table order, so the output is stable.
 * Fresh objects on every call: callers may keep or change them.
 */
export function grantStatements(
  fn: ServiceFunctionName,
  bucketArns: Record<LogicalBucket, string>,
  /** Another row than the table's (the grants mutation test removes one access at a time). */
  grants: Record<LogicalBucket, readonly BucketAccess[]> = SERVICE_FUNCTIONS[fn].buckets,
): GrantStatement[] {
  return LOGICAL_BUCKETS.flatMap(({ name }) => grants[name].map((access) => accessStatement(access, bucketArns[name])));
}

/** The one action a function needs on a signing key's secret: no DescribeSecret, no KMS (the secrets use the AWS-managed key). */
export const READ_SECRET_ACTIONS = ['secretsmanager:GetSecretValue'] as const;

/**
 * The statements that let `fn` read its signing keys' secrets (ARNs, or CDK tokens in the stack),
 * one per key, in the row's order. Fresh objects on every call.
 */
export function keyGrantStatements(
  fn: ServiceFunctionName,
  secretArns: Record<SigningKeyPurpose, string>,
  /** Another row than the table's (tests). */
  keys: readonly SigningKeyPurpose[] = SERVICE_FUNCTIONS[fn].keys,
): GrantStatement[] {
  return keys.map((purpose) => ({ actions: [...READ_SECRET_ACTIONS], resources: [secretArns[purpose]] }));
}

/** The one action the processor needs on the fan-out state machine. */
export const START_FAN_OUT_ACTIONS = ['states:StartExecution'] as const;

/** The statement that lets `fn` start the fan-out state machine `stateMachineArn`, if its row says so. */
export function fanOutGrantStatements(fn: ServiceFunctionName, stateMachineArn: string, startsFanOut = SERVICE_FUNCTIONS[fn].startsFanOut): GrantStatement[] {
  return startsFanOut ? [{ actions: [...START_FAN_OUT_ACTIONS], resources: [stateMachineArn] }] : [];
}
