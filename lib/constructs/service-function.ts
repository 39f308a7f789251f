import { CfnResource, Duration, RemovalPolicy } from 'aws-cdk-lib';
import { PolicyStatement, Role, ServicePrincipal } from 'aws-cdk-lib/aws-iam';
import { Architecture, Runtime, Tracing } from 'aws-cdk-lib/aws-lambda';
import { NodejsFunction, OutputFormat, type BundlingOptions } from 'aws-cdk-lib/aws-lambda-nodejs';
import { LogGroup, RetentionDays } from 'aws-cdk-lib/aws-logs';
import type { IBucket } from 'aws-cdk-lib/aws-s3';
import type { Construct } from 'constructs';
import type { ENV } from '../../lambda/shared/config';
import { USER_ROOT } from '../../lambda/shared/keys';
import { SERVICE_ESBUILD_OPTIONS } from './bundling';
import { acknowledgeNag, nagArnRef } from './nag';

/**
 * The runtime for every function: the newest Node.js Lambda runtime aws-cdk-lib knows (cdk-nag L1).
 * The bundles still target node22 (bundling.ts), so the same code runs on the team's Node 22 too.
 */
export const SERVICE_RUNTIME = Runtime.NODEJS_24_X;

/** CDK's spelling of the shared esbuild options (bundling.ts). */
export const SERVICE_BUNDLING: BundlingOptions = {
  minify: SERVICE_ESBUILD_OPTIONS.minify,
  sourceMap: SERVICE_ESBUILD_OPTIONS.sourcemap,
  sourcesContent: SERVICE_ESBUILD_OPTIONS.sourcesContent,
  target: SERVICE_ESBUILD_OPTIONS.target,
  format: SERVICE_ESBUILD_OPTIONS.format === 'esm' ? OutputFormat.ESM : OutputFormat.CJS,
  mainFields: [...SERVICE_ESBUILD_OPTIONS.mainFields],
  ...(SERVICE_ESBUILD_OPTIONS.banner ? { banner: SERVICE_ESBUILD_OPTIONS.banner.js } : {}),
  externalModules: [...SERVICE_ESBUILD_OPTIONS.external],
  bundleAwsSDK: true,
  esbuildArgs: {
    '--tree-shaking': String(SERVICE_ESBUILD_OPTIONS.treeShaking),
    '--legal-comments': SERVICE_ESBUILD_OPTIONS.legalComments,
    '--alias': Object.entries(SERVICE_ESBUILD_OPTIONS.alias).map(([from, to]) => `${from}=${to}`),
  },
};

export interface ServiceFunctionProps {
  /** Path of the entry module, which exports `handler`. */
  entry: string;
  description: string;
  memorySize: number;
  timeout: Duration;
  environment?: Record<string, string>;
  /** @default one month */
  logRetention?: RetentionDays;
  /** @default RETAIN: logs outlive a deleted stack unless the stack is a dev stack. */
  logRemovalPolicy?: RemovalPolicy;
  /**
   * Load the bundle's source map at start (`NODE_OPTIONS=--enable-source-maps`), for stack traces
   * in the TypeScript sources. Off by default: Node then reads and parses the ~0.5 MB .map on every
   * cold start, which costs about a quarter of the bundle's load time (bench/bundles/RESULTS.md).
   * The .map ships in every asset either way, so turning this on needs no rebuild of the code.
   * @default false
   */
  sourceMaps?: boolean;
}

/**
 * Every Lambda function of the service: Node 22 on arm64, one bundling configuration, its own log
 * group with a retention, X-Ray tracing, and source maps built and shipped but loaded only when
 * `sourceMaps` is set (cold start first). The role starts empty
 * except for writing to that log group (no AWSLambdaBasicExecutionRole, whose logs grant is `*`);
 * every other permission is added by a narrow grant, see `bindBucket`.
 *
 * No reserved concurrency: new accounts have a concurrency quota of 10 and reserving any of it
 * fails the deployment there; the API stage's throttling and the queue's maxConcurrency bound the
 * load instead.
 */
export class ServiceFunction extends NodejsFunction {
  constructor(scope: Construct, id: string, props: ServiceFunctionProps) {
    const logGroup = new LogGroup(scope, `${id}Logs`, {
      retention: props.logRetention ?? RetentionDays.ONE_MONTH,
      removalPolicy: props.logRemovalPolicy ?? RemovalPolicy.RETAIN,
    });
    const role = new Role(scope, `${id}Role`, {
      assumedBy: new ServicePrincipal('lambda.amazonaws.com'),
      description: `Runs the ${id} function`,
    });
    super(scope, id, {
      entry: props.entry,
      handler: 'handler',
      description: props.description,
      runtime: SERVICE_RUNTIME,
      architecture: Architecture.ARM_64,
      memorySize: props.memorySize,
      timeout: props.timeout,
      tracing: Tracing.ACTIVE,
      logGroup,
      role,
      bundling: SERVICE_BUNDLING,
      environment: { ...(props.sourceMaps ? { NODE_OPTIONS: '--enable-source-maps' } : {}), ...props.environment },
    });
    logGroup.grantWrite(role);

    acknowledgeNag(
      role,
      'AwsSolutions-IAM5[Resource::*]',
      'Only the X-Ray statement (xray:PutTraceSegments, xray:PutTelemetryRecords) has Resource "*": those actions support no narrower resource. test/trust/stack-security.test.ts checks that no other action has Resource "*".',
    );
    acknowledgeNag(
      this,
      'Serverless-LambdaDLQ',
      'No function is invoked asynchronously: the API functions are invoked synchronously by API Gateway, the processor by an SQS event source mapping whose queue has its own dead-letter queue (processing.ts).',
    );
  }
}

/**
 * - list: s3:ListBucket, only for prefixes under `users/`
 * - exists: s3:ListBucket unconditioned (GetObject/HeadObject on a missing key is then 404, not 403)
 * - read / write / delete / writeMultipart: object actions on the keys under `users/`
 */
export type BucketAccess = 'list' | 'exists' | 'read' | 'write' | 'delete' | 'writeMultipart';

/** The user area every grant is limited to: the handlers keep each caller inside users/<their sub>/. */
const USER_AREA = `${USER_ROOT}*`;

const OBJECT_ACTIONS: Record<Exclude<BucketAccess, 'list' | 'exists'>, string[]> = {
  read: ['s3:GetObject'],
  write: ['s3:PutObject'],
  writeMultipart: ['s3:PutObject', 's3:AbortMultipartUpload', 's3:ListMultipartUploadParts'],
  delete: ['s3:DeleteObject'],
};

/**
 * Grants a function exactly the listed kinds of access to the user area (`users/*`) of a bucket and
 * sets the environment variable that names the bucket, in one call so the two cannot drift apart.
 * `envVar` is one of the names in lambda/shared/config.ts `ENV`, the ones `loadConfig` reads.
 */
export function bindBucket(
  fn: ServiceFunction,
  options: { bucket: IBucket; envVar: (typeof ENV)[keyof typeof ENV]; access: readonly BucketAccess[] },
): void {
  for (const access of options.access) {
    if (access === 'list') {
      fn.addToRolePolicy(
        new PolicyStatement({
          actions: ['s3:ListBucket'],
          resources: [options.bucket.bucketArn],
          conditions: { StringLike: { 's3:prefix': [USER_AREA] } },
        }),
      );
    } else if (access === 'exists') {
      fn.addToRolePolicy(new PolicyStatement({ actions: ['s3:ListBucket'], resources: [options.bucket.bucketArn] }));
    } else {
      fn.addToRolePolicy(new PolicyStatement({ actions: OBJECT_ACTIONS[access], resources: [options.bucket.arnForObjects(USER_AREA)] }));
    }
  }
  fn.addEnvironment(options.envVar, options.bucket.bucketName);
  const cfnBucket = options.bucket.node.defaultChild;
  if (cfnBucket instanceof CfnResource && fn.role) {
    acknowledgeNag(
      fn.role,
      `AwsSolutions-IAM5[Resource::${nagArnRef(cfnBucket)}/${USER_AREA}]`,
      `The wildcard is the user area (${USER_AREA}): keys are chosen per user at run time (users/<sub>/...), and the handlers keep each caller inside users/<their sub>/.`,
    );
  }
}
