import * as path from 'node:path';
import { Aspects, CfnOutput, CfnResource, Lazy, RemovalPolicy, Stack, type StackProps } from 'aws-cdk-lib';
import type { Construct } from 'constructs';
import { DEFAULT_FAN_OUT_BYTES, ENV } from '../lambda/shared/config';
import { PROCESSING_QUEUE } from '../lambda/shared/processing-queue';
import { SERVICE_FUNCTIONS, type ServiceFunctionName } from '../lambda/shared/grants';
import { Api } from './constructs/api';
import { Auth } from './constructs/auth';
import { ConsoleHosting } from './constructs/console';
import { FanOut } from './constructs/fan-out';
import { Firewall } from './constructs/firewall';
import { Monitoring } from './constructs/monitoring';
import { Processing } from './constructs/processing';
import { bindBuckets, bindFanOut, JsonFunctionLogs, ServiceFunction } from './constructs/service-function';
import { SigningKeys, bindSigningKeys } from './constructs/signing-keys';
import { Storage } from './constructs/storage';
import { acknowledgeNag } from './constructs/nag';

export interface FileServiceStackProps extends StackProps {
  /** Browser origins allowed to call the API and S3 (exact matches). Default: none. */
  allowedOrigins?: readonly string[];
  /** Dev stacks: buckets, users and logs are deleted with the stack. Default: retained. */
  autoDeleteObjects?: boolean;
  /** API throttling, per method (API Gateway applies a stage's limits to each method). Default: 50 requests/s, bursts of 100. */
  throttling?: { rateLimit: number; burstLimit: number };
  /** Cognito's Plus feature plan with threat protection enforced (billed per active user). Default: off. */
  threatProtection?: boolean;
  /**
   * The processor's reserved concurrency, at least the queue's maxConcurrency; `null` for none.
   * Default: PROCESSING_QUEUE.maxConcurrency (5).
   */
  processorReservedConcurrency?: number | null;
  /** Let the stack set the account's API Gateway logging role (AWS::ApiGateway::Account). Default: off. */
  apiGatewayCloudWatchRole?: boolean;
  /** An AWS WAF web ACL on the API stage (rate rules, AWS core rule set). Default: on. */
  waf?: boolean;
  /** Subscribed by email to the topic every alarm notifies. Default: none (subscribe to the topic yourself). */
  alarmEmail?: string;
  /** Set NODE_OPTIONS=--enable-source-maps on every function (slower cold starts). Default: off. */
  sourceMaps?: boolean;
  /** The web console's hosted-UI domain prefix. Default: `<stack name>-<account>`. */
  consoleDomainPrefix?: string;
  /** Where the entry modules live. Default: lambda/functions. */
  functionsDir?: string;
  /** Objects of at least this many bytes are profiled by the fan-out state machine. Default: DEFAULT_FAN_OUT_BYTES (2 GiB). */
  fanOutBytes?: number;
  /** Optional overrides of the functions' limits (unset: the defaults in lambda/shared/config.ts). */
  limits?: Partial<Record<'maxUploadBytes' | 'multipartThresholdBytes' | 'presignExpiresSeconds' | 'inlineMaxBytes', number>>;
}

const FUNCTIONS_DIR = path.join(__dirname, '..', 'lambda', 'functions');

/**
 * The processor reserves exactly what the queue's event source may use (its maxConcurrency):
 * without a reservation, API traffic that used up the account's concurrency would throttle the
 * processor, and every throttle spends one of a message's receives, so load alone would send
 * uploads to the dead-letter queue. Fewer than maxConcurrency would make the event source itself
 * cause throttles, so it is refused. Lambda keeps at least 10 of an account's concurrency
 * unreserved: an account whose quota is still 10 must deploy with -c processorReservedConcurrency=none.
 */
export function processorReservedConcurrency(value: number | null | undefined): number | undefined {
  if (value === null) return undefined;
  const reserved = value ?? PROCESSING_QUEUE.maxConcurrency;
  if (!Number.isInteger(reserved) || reserved < PROCESSING_QUEUE.maxConcurrency) {
    throw new Error(`processorReservedConcurrency must be an integer of at least the queue's maxConcurrency (${PROCESSING_QUEUE.maxConcurrency}), or none; got ${reserved}`);
  }
  return reserved;
}

/** Wiring only: which construct talks to which. */
export class FileServiceStack extends Stack {
  readonly storage: Storage;
  readonly auth: Auth;
  readonly console: ConsoleHosting;
  readonly api: Api;
  readonly processing: Processing;
  readonly fanOut: FanOut;
  readonly monitoring: Monitoring;
  readonly firewall: Firewall | undefined;
  readonly signingKeys: SigningKeys;
  readonly functions: Record<ServiceFunctionName, ServiceFunction>;

  constructor(scope: Construct, id: string, props: FileServiceStackProps = {}) {
    super(scope, id, props);
    Aspects.of(this).add(new JsonFunctionLogs());
    // The web console's origin joins the configured ones. It is known once its distribution exists,
    // which needs the log bucket made with the other buckets: a Lazy closes that circle in code.
    const allowedOrigins = [...(props.allowedOrigins ?? []), Lazy.string({ produce: () => this.console.origin })];
    const dev = props.autoDeleteObjects ?? false;
    const functionsDir = props.functionsDir ?? FUNCTIONS_DIR;
    const removalPolicy = dev ? RemovalPolicy.DESTROY : RemovalPolicy.RETAIN;

    this.storage = new Storage(this, 'Storage', { allowedOrigins, autoDeleteObjects: dev });
    // A throw-away stack deletes its users with it, which deletion protection would refuse.
    this.auth = new Auth(this, 'Auth', { removalPolicy, deletionProtection: !dev, threatProtection: props.threatProtection ?? false });
    this.console = new ConsoleHosting(this, 'Console', {
      userPool: this.auth.userPool,
      accessLogs: this.storage.accessLogs,
      ...(props.consoleDomainPrefix ? { domainPrefix: props.consoleDomainPrefix } : {}),
    });

    // One HMAC key per purpose, each a secret that only the functions using it may read, fetched at
    // cold start: the environment names the secret, never holds its value (lambda/shared/secrets.ts).
    this.signingKeys = new SigningKeys(this, 'SigningKeys', { removalPolicy });
    const common: Record<string, string> = {};
    for (const [name, value] of Object.entries(props.limits ?? {})) {
      if (value !== undefined) common[ENV[name as keyof typeof ENV]] = String(value);
    }
    const apiEnv = { ...common, [ENV.allowedOrigins]: allowedOrigins.join(',') };
    const logRemovalPolicy = removalPolicy;
    const sourceMaps = props.sourceMaps ?? false;
    const serviceFunction = (name: ServiceFunctionName, environment: Record<string, string>, reservedConcurrency?: number) =>
      new ServiceFunction(this, `${name[0]!.toUpperCase()}${name.slice(1)}Function`, {
        name,
        entry: path.join(functionsDir, `${name.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}.ts`),
        environment,
        logRemovalPolicy,
        sourceMaps,
        ...(reservedConcurrency !== undefined ? { reservedConcurrency } : {}),
      });
    const list = serviceFunction('list', apiEnv);
    const read = serviceFunction('read', apiEnv);
    const upload = serviceFunction('upload', apiEnv);
    const fanOutBytes = props.fanOutBytes ?? DEFAULT_FAN_OUT_BYTES;
    const processor = serviceFunction('process', { ...common, [ENV.fanOutBytes]: String(fanOutBytes) }, processorReservedConcurrency(props.processorReservedConcurrency));
    const fanOutPlan = serviceFunction('fanOutPlan', common);
    const fanOutRange = serviceFunction('fanOutRange', common);
    const fanOutMerge = serviceFunction('fanOutMerge', common);
    this.functions = { list, read, upload, process: processor, fanOutPlan, fanOutRange, fanOutMerge };

    const { uploads, results } = this.storage;
    const dataBuckets = {
      uploads: { bucket: uploads, envVar: ENV.uploadsBucket },
      results: { bucket: results, envVar: ENV.resultsBucket },
    };
    for (const fn of Object.values(this.functions)) {
      bindBuckets(fn, dataBuckets);
      bindSigningKeys(fn, this.signingKeys.secrets);
    }

    this.processing = new Processing(this, 'Processing', { source: uploads, processor });
    this.fanOut = new FanOut(this, 'FanOut', {
      plan: fanOutPlan,
      range: fanOutRange,
      merge: fanOutMerge,
      deadLetterQueue: this.processing.deadLetterQueue,
      logRemovalPolicy,
    });
    bindFanOut(processor, this.fanOut.stateMachine);
    // CDK's singleton function that sets S3 notifications at deploy time: its role is the one
    // Storage made; point its logs at the log group that role may write to.
    const notificationsHandler = this.node.tryFindChild('BucketNotificationsHandler050a0587b7544547bf325f094a3db834')?.node.tryFindChild('Resource');
    if (!(notificationsHandler instanceof CfnResource)) throw new Error('CDK\'s BucketNotificationsHandler was not found: was it renamed?');
    notificationsHandler.addPropertyOverride('LoggingConfig.LogGroup', this.storage.notificationsHandlerLogs.logGroupName);

    const throttling = props.throttling ?? { rateLimit: 50, burstLimit: 100 };
    this.api = new Api(this, 'Api', {
      userPool: this.auth.userPool,
      functions: { list, read, upload },
      allowedOrigins,
      throttling,
      cloudWatchRole: props.apiGatewayCloudWatchRole ?? false,
    });
    if (props.waf ?? true) {
      this.firewall = new Firewall(this, 'Firewall', { stage: this.api.restApi.deploymentStage, methodRateLimit: throttling.rateLimit });
    } else {
      this.firewall = undefined;
      acknowledgeNag(
        this.api.restApi,
        'AwsSolutions-APIG3',
        'Deployed with -c waf=false: whoever deploys chose no web ACL (billed per ACL, rule and request). The stage\'s per-method throttles remain; the Cognito authorizer guards every method (CORS preflights aside).',
      );
    }

    this.monitoring = new Monitoring(this, 'Monitoring', {
      ...(props.alarmEmail ? { alarmEmail: props.alarmEmail } : {}),
      functions: this.functions,
      apiFunctionTimeoutsSeconds: (['list', 'read', 'upload'] as const).map((name) => SERVICE_FUNCTIONS[name].timeoutSeconds),
      stage: this.api.restApi.deploymentStage,
      queue: this.processing.queue,
      queueVisibilityTimeout: this.processing.queueVisibilityTimeout,
      deadLetterQueue: this.processing.deadLetterQueue,
      alarms: [this.processing.deadLetterAlarm, this.fanOut.failedAlarm],
    });

    this.console.deploy(this.api.restApi);

    new CfnOutput(this, 'ConsoleUrl', { value: `${this.console.origin}/`, description: 'The web console' });
    new CfnOutput(this, 'ApiUrl', { value: this.api.restApi.url, description: 'Base URL of the API' });
    new CfnOutput(this, 'OpenApiUrl', { value: `${this.console.origin}/openapi.json`, description: 'The API\'s OpenAPI 3.1 document' });
    new CfnOutput(this, 'UserPoolId', { value: this.auth.userPool.userPoolId });
    new CfnOutput(this, 'UserPoolClientId', { value: this.auth.client.userPoolClientId });
    new CfnOutput(this, 'UploadsBucketName', { value: uploads.bucketName });
    new CfnOutput(this, 'ResultsBucketName', { value: results.bucketName });
    new CfnOutput(this, 'Region', { value: this.region });
    new CfnOutput(this, 'AlarmTopicArn', { value: this.monitoring.topic.topicArn, description: 'Every alarm notifies this topic' });
  }
}
