import { execFileSync } from 'node:child_process';
import * as path from 'node:path';
import { pathToFileURL } from 'node:url';
import { AssetHashType, CfnResource, Duration, RemovalPolicy, type IAspect } from 'aws-cdk-lib';
import { PolicyStatement, Role, ServicePrincipal } from 'aws-cdk-lib/aws-iam';
import { ApplicationLogLevel, Architecture, CfnFunction, Code, Function as LambdaFunction, LoggingFormat, Runtime, SystemLogLevel, Tracing } from 'aws-cdk-lib/aws-lambda';
import type { IConstruct } from 'constructs';
import { LogGroup, RetentionDays } from 'aws-cdk-lib/aws-logs';
import type { IBucket } from 'aws-cdk-lib/aws-s3';
import type { Construct } from 'constructs';
import { ENV } from '../../lambda/shared/config';
import { fanOutGrantStatements, grantStatements, SERVICE_FUNCTIONS, type ServiceFunctionName } from '../../lambda/shared/grants';
import type { IStateMachine } from 'aws-cdk-lib/aws-stepfunctions';
import type { LogicalBucket } from '../../lambda/shared/keys';
import { BUNDLE_FILE } from './bundling';
import { acknowledgeNag, nagArnRef } from './nag';

/** The runtime for every function: the newest Node.js Lambda runtime aws-cdk-lib knows (cdk-nag L1). */
export const SERVICE_RUNTIME = Runtime.NODEJS_24_X;

/**
 * Every function logs in Lambda's JSON format: the runtime wraps each line in a JSON record with
 * the timestamp, level and request id, and the objects the code logs (lambda/shared/log.ts) stay
 * objects, queryable by field in CloudWatch Logs Insights. INFO for both levels: the request and
 * record lines are INFO, and the platform's REPORT lines (duration, init duration) are wanted.
 */
export const SERVICE_LOGGING = {
  loggingFormat: LoggingFormat.JSON,
  applicationLogLevelV2: ApplicationLogLevel.INFO,
  systemLogLevelV2: SystemLogLevel.INFO,
} as const;

/**
 * Gives the functions aws-cdk-lib creates for itself (bucket notifications, bucket deployment,
 * auto-delete) the same JSON logging, so every function of the stack logs alike; the service's
 * own functions have it from SERVICE_LOGGING already.
 */
export class JsonFunctionLogs implements IAspect {
  visit(node: IConstruct): void {
    if (!(node instanceof CfnResource) || node.cfnResourceType !== 'AWS::Lambda::Function') return;
    if (node instanceof CfnFunction && node.loggingConfig && 'logFormat' in node.loggingConfig) return;
    node.addPropertyOverride('LoggingConfig.LogFormat', SERVICE_LOGGING.loggingFormat);
    node.addPropertyOverride('LoggingConfig.ApplicationLogLevel', SERVICE_LOGGING.applicationLogLevelV2);
    node.addPropertyOverride('LoggingConfig.SystemLogLevel', SERVICE_LOGGING.systemLogLevelV2);
  }
}

const PROJECT_ROOT = path.join(__dirname, '..', '..');
const BUNDLER = path.join(PROJECT_ROOT, 'lib', 'bundle-function.ts');

/**
 * A function's code: its entry bundled by lib/bundle-function.ts with the shared options and
 * plugins (bundling.ts), on this machine, in a child process (CDK's hook is synchronous, esbuild's
 * plugins run only in its asynchronous API). Why not NodejsFunction: it drives the esbuild CLI,
 * which takes no plugins, and the SDK schema plugin takes a sixth off every bundle
 * (bench/bundles/NOTES.md). The asset is hashed by its output, as NodejsFunction does, so a change
 * anywhere in what the entry imports gives a new asset and nothing else does.
 */
export function serviceCode(entry: string): Code {
  const relativeEntry = path.relative(PROJECT_ROOT, entry);
  const tsx = pathToFileURL(require.resolve('tsx')).href;
  return Code.fromAsset(PROJECT_ROOT, {
    assetHashType: AssetHashType.OUTPUT,
    bundling: {
      // Never run: `tryBundle` bundles or throws, so CDK does not fall back to Docker. CDK requires
      // an image; the command names the entry, which also keeps CDK's asset cache key per entry.
      image: SERVICE_RUNTIME.bundlingImage,
      command: ['node', '--import', 'tsx', 'lib/bundle-function.ts', `/asset-input/${relativeEntry}`, '/asset-output'],
      local: {
        tryBundle(outputDir: string): boolean {
          execFileSync(process.execPath, ['--import', tsx, BUNDLER, entry, outputDir], { stdio: ['ignore', 'inherit', 'inherit'] });
          return true;
        },
      },
    },
  });
}

export interface ServiceFunctionProps {
  /** Which function of the service: its row in SERVICE_FUNCTIONS (lambda/shared/grants.ts). */
  name: ServiceFunctionName;
  /** Path of the entry module, which exports `handler`. */
  entry: string;
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
  /** Reserved concurrency (both a guarantee and a cap). @default none */
  reservedConcurrency?: number;
}

/**
 * Every Lambda function of the service: SERVICE_RUNTIME on arm64, the description, memory and
 * timeout of its row in SERVICE_FUNCTIONS, one bundling configuration, its own log
 * group with a retention, X-Ray tracing, and source maps built and shipped but loaded only when
 * `sourceMaps` is set (cold start first). The role starts empty
 * except for writing to that log group (no AWSLambdaBasicExecutionRole, whose logs grant is `*`);
 * every other permission is added by a narrow grant, see `bindBuckets`.
 *
 * Reserved concurrency only when `reservedConcurrency` is given (the stack gives it to the
 * processor, see file-service-stack.ts); the API functions scale with the stage's throttles.
 */
export class ServiceFunction extends LambdaFunction {
  /** Its row in SERVICE_FUNCTIONS, which `bindBuckets` grants from. */
  readonly serviceName: ServiceFunctionName;

  constructor(scope: Construct, id: string, props: ServiceFunctionProps) {
    const spec = SERVICE_FUNCTIONS[props.name];
    const logGroup = new LogGroup(scope, `${id}Logs`, {
      retention: props.logRetention ?? RetentionDays.ONE_MONTH,
      removalPolicy: props.logRemovalPolicy ?? RemovalPolicy.RETAIN,
    });
    const role = new Role(scope, `${id}Role`, {
      assumedBy: new ServicePrincipal('lambda.amazonaws.com'),
      description: `Runs the ${id} function`,
    });
    super(scope, id, {
      code: serviceCode(props.entry),
      handler: `${path.parse(BUNDLE_FILE).name}.handler`,
      description: spec.description,
      runtime: SERVICE_RUNTIME,
      architecture: Architecture.ARM_64,
      memorySize: spec.memorySize,
      timeout: Duration.seconds(spec.timeoutSeconds),
      tracing: Tracing.ACTIVE,
      logGroup,
      ...SERVICE_LOGGING,
      role,
      ...(props.reservedConcurrency !== undefined ? { reservedConcurrentExecutions: props.reservedConcurrency } : {}),
      environment: { ...(props.sourceMaps ? { NODE_OPTIONS: '--enable-source-maps' } : {}), ...props.environment },
    });
    this.serviceName = props.name;
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

/** A data bucket as the stack has it, and the variable that names it to the function. */
export interface BoundBucket {
  bucket: IBucket;
  /** One of the names in lambda/shared/config.ts `ENV`, the ones `loadConfig` reads. */
  envVar: (typeof ENV)[keyof typeof ENV];
}

/**
 * Grants a function exactly its S3 access in SERVICE_FUNCTIONS (the statements `grantStatements`
 * generates, the same statements local mode evaluates) and sets the environment
 * variable that names each bucket, in one call so the two cannot drift apart. Every bucket gets its
 * variable even when the function has no access to it: `loadConfig` requires both.
 */
export function bindBuckets(fn: ServiceFunction, buckets: Record<LogicalBucket, BoundBucket>): void {
  const arns = { uploads: buckets.uploads.bucket.bucketArn, results: buckets.results.bucket.bucketArn };
  const statements = grantStatements(fn.serviceName, arns);
  for (const statement of statements) fn.addToRolePolicy(new PolicyStatement(statement));
  for (const { bucket, envVar } of Object.values(buckets)) {
    fn.addEnvironment(envVar, bucket.bucketName);
    // cdk-nag flags the wildcard in each object resource (`<bucket ARN>/users/*`); acknowledge
    // exactly the ones generated, spelled as cdk-nag spells them.
    const cfnBucket = bucket.node.defaultChild;
    if (!(cfnBucket instanceof CfnResource) || !fn.role) continue;
    const objectPatterns = new Set(
      statements.flatMap((s) => s.resources).filter((r) => r.startsWith(`${bucket.bucketArn}/`)).map((r) => r.slice(bucket.bucketArn.length)),
    );
    for (const pattern of objectPatterns) {
      acknowledgeNag(
        fn.role,
        `AwsSolutions-IAM5[Resource::${nagArnRef(cfnBucket)}${pattern}]`,
        `The wildcard is the user area (${pattern.slice(1)}): keys are chosen per user at run time (users/<sub>/...), and the handlers keep each caller inside users/<their sub>/.`,
      );
    }
  }
}

/**
 * Lets a function whose row says `startsFanOut` start `stateMachine` (states:StartExecution on it
 * alone, the statement `fanOutGrantStatements` generates) and names it in the function's
 * environment, in one call. A function whose row does not say so gets neither.
 */
export function bindFanOut(fn: ServiceFunction, stateMachine: IStateMachine): void {
  const statements = fanOutGrantStatements(fn.serviceName, stateMachine.stateMachineArn);
  for (const statement of statements) fn.addToRolePolicy(new PolicyStatement(statement));
  if (statements.length) fn.addEnvironment(ENV.fanOutStateMachineArn, stateMachine.stateMachineArn);
}
