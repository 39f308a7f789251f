import { Duration, RemovalPolicy } from 'aws-cdk-lib';
import { PolicyDocument, PolicyStatement, Role, ServicePrincipal } from 'aws-cdk-lib/aws-iam';
import { LogGroup, RetentionDays } from 'aws-cdk-lib/aws-logs';
import {
  BlockPublicAccess,
  Bucket,
  BucketEncryption,
  HttpMethods,
  ObjectOwnership,
  type BucketProps,
} from 'aws-cdk-lib/aws-s3';
import { Construct } from 'constructs';
import { BUCKET_EXPOSED_HEADERS } from '../../lambda/shared/cors';
import { COMPLETIONS_ROOT, FAN_OUT_ROOT } from '../../lambda/shared/keys';
import { FAN_OUT } from '../../lambda/shared/fan-out';
import { UPLOAD_LIFETIME_DAYS } from '../../lambda/shared/upload-lifetime';

/** Days a completion claim is kept: a day past the days an upload id is valid. */
export const COMPLETION_CLAIM_DAYS = UPLOAD_LIFETIME_DAYS + 1;

export interface StorageProps {
  /** Browser origins allowed to PUT/GET presigned URLs (CORS). Empty: no CORS rule at all. */
  allowedOrigins: readonly string[];
  /** Dev stacks: delete the buckets and their objects with the stack. Default: retain both. */
  autoDeleteObjects: boolean;
}

/**
 * The three buckets, with the secure defaults in one place: no public access, TLS only, S3-managed
 * encryption, ACLs disabled (bucket owner enforced), server access logs to the log bucket.
 */
export class Storage extends Construct {
  readonly uploads: Bucket;
  readonly results: Bucket;
  readonly accessLogs: Bucket;
  /**
   * The role of CDK's BucketNotificationsHandler (the deploy-time function that sets the uploads
   * bucket's notification configuration), and the log group it writes to (see
   * `useNotificationsHandlerLogs`).
   */
  readonly notificationsHandlerRole: Role;
  readonly notificationsHandlerLogs: LogGroup;

  constructor(scope: Construct, id: string, props: StorageProps) {
    super(scope, id);
    // With ACLs disabled, S3 can deliver access logs only through a bucket policy (which CDK then
    // adds to the log bucket); the legacy LogDeliveryWrite ACL would fail to deploy. Set here, not
    // only in cdk.json, so the buckets are right whatever the app's feature flags say.
    this.node.setContext('@aws-cdk/aws-s3:serverAccessLogsUseBucketPolicy', true);

    const secure: BucketProps = {
      blockPublicAccess: BlockPublicAccess.BLOCK_ALL,
      enforceSSL: true,
      encryption: BucketEncryption.S3_MANAGED,
      objectOwnership: ObjectOwnership.BUCKET_OWNER_ENFORCED,
    };
    const dataRemoval = props.autoDeleteObjects
      ? { removalPolicy: RemovalPolicy.DESTROY, autoDeleteObjects: true }
      : { removalPolicy: RemovalPolicy.RETAIN };

    this.accessLogs = new Bucket(this, 'AccessLogs', {
      ...secure,
      ...dataRemoval,
      lifecycleRules: [{ id: 'ExpireAccessLogs', expiration: Duration.days(365) }],
    });

    // CDK's notifications handler gets a role with AWSLambdaBasicExecutionRole (logs on "*") unless
    // it is given one; it then still attaches that managed policy, and its own s3:PutBucketNotification
    // policy, to the role it is given, unless the role is immutable. So: a role of our own with one
    // inline policy (write to its own log group, PutBucketNotification on the uploads bucket only),
    // handed over without policy updates. The policy is inline in the role, so it exists before the
    // function that assumes the role.
    this.notificationsHandlerLogs = new LogGroup(this, 'NotificationsHandlerLogs', {
      retention: RetentionDays.ONE_MONTH,
      removalPolicy: dataRemoval.removalPolicy,
    });
    const handlerPolicy = new PolicyDocument();
    this.notificationsHandlerRole = new Role(this, 'NotificationsHandlerRole', {
      assumedBy: new ServicePrincipal('lambda.amazonaws.com'),
      description: 'Sets the uploads bucket\'s event notifications at deploy time (CDK\'s BucketNotificationsHandler)',
      inlinePolicies: { NotificationsHandler: handlerPolicy },
    });

    this.uploads = new Bucket(this, 'Uploads', {
      ...secure,
      notificationsHandlerRole: this.notificationsHandlerRole.withoutPolicyUpdates(),
      ...dataRemoval,
      versioned: true,
      serverAccessLogsBucket: this.accessLogs,
      serverAccessLogsPrefix: 'uploads/',
      lifecycleRules: [
        // As long as the upload id the API hands out is valid, and no longer (one constant for both).
        { id: 'AbortIncompleteMultipartUploads', abortIncompleteMultipartUploadAfter: Duration.days(UPLOAD_LIFETIME_DAYS) },
        // Versioning keeps overwritten and deleted uploads recoverable for a while, not forever.
        { id: 'ExpireOldVersions', noncurrentVersionExpiration: Duration.days(30), expiredObjectDeleteMarker: true },
      ],
      cors: props.allowedOrigins.length
        ? [
            {
              allowedOrigins: [...props.allowedOrigins],
              allowedMethods: [HttpMethods.GET, HttpMethods.PUT, HttpMethods.HEAD, HttpMethods.POST],
              allowedHeaders: ['*'],
              exposedHeaders: [...BUCKET_EXPOSED_HEADERS],
              maxAge: 3000,
            },
          ]
        : [],
    });

    handlerPolicy.addStatements(
      new PolicyStatement({ actions: ['s3:PutBucketNotification'], resources: [this.uploads.bucketArn] }),
      new PolicyStatement({ actions: ['logs:CreateLogStream', 'logs:PutLogEvents'], resources: [this.notificationsHandlerLogs.logGroupArn] }),
    );

    // Profiles are derived data (they can be recomputed from the uploads): no versioning.
    this.results = new Bucket(this, 'Results', {
      ...secure,
      ...dataRemoval,
      serverAccessLogsBucket: this.accessLogs,
      serverAccessLogsPrefix: 'results/',
      // A completion claim is needed while an upload id that names it is valid, and no longer.
      lifecycleRules: [
        { id: 'ExpireCompletionClaims', prefix: COMPLETIONS_ROOT, expiration: Duration.days(COMPLETION_CLAIM_DAYS) },
        // A fan-out run's merge removes its partial profiles; a run that failed leaves them here.
        { id: 'ExpireFanOutParts', prefix: FAN_OUT_ROOT, expiration: Duration.days(FAN_OUT.partsRetentionDays) },
      ],
      cors: props.allowedOrigins.length
        ? [
            {
              allowedOrigins: [...props.allowedOrigins],
              allowedMethods: [HttpMethods.GET, HttpMethods.HEAD],
              allowedHeaders: ['*'],
              exposedHeaders: [...BUCKET_EXPOSED_HEADERS],
              maxAge: 3000,
            },
          ]
        : [],
    });
  }
}
