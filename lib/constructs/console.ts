/**
 * The web console, deployed: its files in a private bucket behind CloudFront (origin access
 * control; the bucket is never public), the security headers by a response headers policy, and
 * the Cognito hosted UI it signs in with (a user pool domain and a public app client with the
 * authorization code grant, which Cognito requires PKCE-capable clients without a secret to use).
 * In two steps, because of what depends on what: the hosting first, so the stack can add
 * `origin` to the API's and the buckets' CORS, then `deploy()` once the API exists, which uploads
 * the built assets and a `config.json` naming the API, the sign-in domain and the client.
 */
import * as path from 'node:path';
import { Aws, DockerImage, Duration, RemovalPolicy, Stack } from 'aws-cdk-lib';
import {
  AllowedMethods,
  Distribution,
  HeadersFrameOption,
  HeadersReferrerPolicy,
  ResponseHeadersPolicy,
  ViewerProtocolPolicy,
} from 'aws-cdk-lib/aws-cloudfront';
import { S3BucketOrigin } from 'aws-cdk-lib/aws-cloudfront-origins';
import { OAuthScope, UserPoolClientIdentityProvider, type UserPool, type UserPoolClient, type UserPoolDomain } from 'aws-cdk-lib/aws-cognito';
import type { RestApi } from 'aws-cdk-lib/aws-apigateway';
import { BlockPublicAccess, Bucket, BucketEncryption, CfnBucket, ObjectOwnership, type IBucket } from 'aws-cdk-lib/aws-s3';
import { BucketDeployment, CacheControl, Source } from 'aws-cdk-lib/aws-s3-deployment';
import { Construct } from 'constructs';
import { buildOpenApi } from '../openapi';
import { consoleContentSecurityPolicy } from '../../web/csp';
import { writeConsoleSync } from '../../web/build';
import { acknowledgeNag, nagArnRef } from './nag';

export interface ConsoleHostingProps {
  userPool: UserPool;
  /** Server access logs of the console bucket go here (`console/`). */
  accessLogs: IBucket;
  /** The hosted UI's domain prefix (globally unique per region). Default: `<stack name>-<account>`, lower case. */
  domainPrefix?: string;
}

const WEB_DIR = path.join(__dirname, '..', '..', 'web');

export class ConsoleHosting extends Construct {
  readonly bucket: Bucket;
  readonly distribution: Distribution;
  readonly headers: ResponseHeadersPolicy;
  readonly domain: UserPoolDomain;
  readonly client: UserPoolClient;
  /** `https://<distribution>.cloudfront.net`, for CORS. */
  readonly origin: string;

  constructor(scope: Construct, id: string, props: ConsoleHostingProps) {
    super(scope, id);
    const stack = Stack.of(this);

    this.bucket = new Bucket(this, 'Assets', {
      blockPublicAccess: BlockPublicAccess.BLOCK_ALL,
      enforceSSL: true,
      encryption: BucketEncryption.S3_MANAGED,
      objectOwnership: ObjectOwnership.BUCKET_OWNER_ENFORCED,
      serverAccessLogsBucket: props.accessLogs,
      serverAccessLogsPrefix: 'console/',
      // Built files only, which the deployment removes when it is deleted (retainOnDelete: false),
      // so the empty bucket goes with the stack without an auto-delete function.
      removalPolicy: RemovalPolicy.DESTROY,
    });

    this.domain = props.userPool.addDomain('ConsoleSignIn', {
      cognitoDomain: { domainPrefix: props.domainPrefix ?? `${stack.stackName.toLowerCase()}-${Aws.ACCOUNT_ID}` },
    });

    // The CSP names what the page may connect to. The API and the sign-in domain are named exactly.
    // S3 is named by the region's endpoint pattern, not the buckets: the buckets' CORS names this
    // distribution, so the distribution's headers naming the buckets would be a dependency cycle.
    this.headers = new ResponseHeadersPolicy(this, 'SecurityHeaders', {
      comment: 'The web console: CSP without inline script, HSTS, nosniff, no framing, no referrer',
      securityHeadersBehavior: {
        contentSecurityPolicy: {
          contentSecurityPolicy: consoleContentSecurityPolicy([
            this.domain.baseUrl(),
            `https://*.execute-api.${Aws.REGION}.${Aws.URL_SUFFIX}`,
            `https://*.s3.${Aws.REGION}.${Aws.URL_SUFFIX}`,
            `https://s3.${Aws.REGION}.${Aws.URL_SUFFIX}`,
          ]),
          override: true,
        },
        strictTransportSecurity: { accessControlMaxAge: Duration.days(365), includeSubdomains: true, override: true },
        contentTypeOptions: { override: true },
        frameOptions: { frameOption: HeadersFrameOption.DENY, override: true },
        referrerPolicy: { referrerPolicy: HeadersReferrerPolicy.NO_REFERRER, override: true },
      },
    });

    const origin = S3BucketOrigin.withOriginAccessControl(this.bucket);
    this.distribution = new Distribution(this, 'Cdn', {
      comment: `${stack.stackName}: web console`,
      defaultRootObject: 'index.html',
      defaultBehavior: {
        origin,
        viewerProtocolPolicy: ViewerProtocolPolicy.REDIRECT_TO_HTTPS,
        allowedMethods: AllowedMethods.ALLOW_GET_HEAD,
        responseHeadersPolicy: this.headers,
      },
    });
    this.origin = `https://${this.distribution.distributionDomainName}`;

    this.client = props.userPool.addClient('Console', {
      // A browser cannot keep a secret: a public client, the code grant with PKCE.
      generateSecret: false,
      authFlows: {},
      oAuth: {
        flows: { authorizationCodeGrant: true },
        scopes: [OAuthScope.OPENID, OAuthScope.EMAIL],
        callbackUrls: [`${this.origin}/`],
        logoutUrls: [`${this.origin}/`],
      },
      supportedIdentityProviders: [UserPoolClientIdentityProvider.COGNITO],
      preventUserExistenceErrors: true,
      enableTokenRevocation: true,
      idTokenValidity: Duration.hours(1),
      accessTokenValidity: Duration.hours(1),
      refreshTokenValidity: Duration.hours(12),
    });

    acknowledgeNag(
      this.distribution,
      'AwsSolutions-CFR1',
      'No geo restriction: the console is for the pool\'s users wherever they are; every API call needs a Cognito token.',
    );
    acknowledgeNag(
      this.distribution,
      'AwsSolutions-CFR2',
      'No WAF on the console: it serves four static files; the API it calls is where requests are authorised and throttled.',
    );
    acknowledgeNag(
      this.distribution,
      'AwsSolutions-CFR3',
      'No CloudFront standard logs: they need ACLs on the log bucket, which this stack disables (BucketOwnerEnforced); the origin bucket\'s server access logs record every fetch that reaches it.',
    );
    acknowledgeNag(
      this.distribution,
      'AwsSolutions-CFR4',
      'The default *.cloudfront.net certificate, whose security policy CloudFront fixes at TLSv1 (minimumProtocolVersion needs a custom certificate); a custom domain with its own certificate and TLSv1.2_2021 removes this.',
    );
  }

  /** Uploads the built console, its `config.json` and the API's `openapi.json`. */
  deploy(api: RestApi): BucketDeployment {
    const stack = Stack.of(this);
    const deployment = new BucketDeployment(this, 'Deploy', {
      destinationBucket: this.bucket,
      retainOnDelete: false,
      // Revalidated on every use (an ETag check; CloudFront holds them for its 1 s minimum TTL), so a
      // redeploy shows at once without an invalidation, whose grant CDK can only give on "*".
      cacheControl: [CacheControl.noCache()],
      memoryLimit: 256,
      sources: [
        Source.asset(WEB_DIR, {
          exclude: ['dist', 'node_modules'],
          bundling: {
            // Built by the repo's esbuild on this machine (tryBundle); the image is never pulled.
            image: DockerImage.fromRegistry('public.ecr.aws/docker/library/node:24-slim'),
            local: {
              tryBundle(outputDir: string) {
                writeConsoleSync(outputDir);
                return true;
              },
            },
          },
        }),
        Source.jsonData('config.json', {
          // The stage URL ends in '/'; the console trims it.
          apiUrl: api.url,
          authUrl: this.domain.baseUrl(),
          clientId: this.client.userPoolClientId,
          region: stack.region,
        }),
        // The API's OpenAPI document beside the console (the stack's OpenApiUrl output): served by
        // CloudFront without a token, like a docs page, and no method on the API without the
        // authorizer (which the stack tests and cdk-nag forbid).
        Source.jsonData('openapi.json', buildOpenApi({ serverUrl: api.url })),
      ],
    });
    this.acknowledgeDeploymentHandler();
    return deployment;
  }

  /** CDK's BucketDeployment handler: a singleton Lambda run only while CloudFormation deploys. */
  private acknowledgeDeploymentHandler(): void {
    // The singleton's id as aws-cdk-lib makes it: a fixed UUID and the memory limit (256 MiB).
    const handler = Stack.of(this).node.tryFindChild('Custom::CDKBucketDeployment8693BB64968944B69AAFB0CC9EB8756C256MiB');
    if (!handler) throw new Error('BucketDeployment handler not found: aws-cdk-lib changed its id; update ConsoleHosting');
    const deployOnly = 'CDK\'s BucketDeployment handler, run by CloudFormation only while deploying the console files; CDK owns its code and role.';
    const acks: [string, string][] = [
      ['AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole]', `${deployOnly} The managed policy lets it write its own logs, nothing else.`],
      ['AwsSolutions-IAM5[Action::s3:GetBucket*]', `${deployOnly} CDK grants read of the asset bucket by wildcard actions (grantRead).`],
      ['AwsSolutions-IAM5[Action::s3:GetObject*]', `${deployOnly} CDK grants read of the asset bucket by wildcard actions (grantRead).`],
      ['AwsSolutions-IAM5[Action::s3:List*]', `${deployOnly} CDK grants read of the asset bucket by wildcard actions (grantRead).`],
      ['AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:s3:::cdk-hnb659fds-assets-<AWS::AccountId>-<AWS::Region>/*]', `${deployOnly} It reads the console's asset zip from the bootstrap asset bucket.`],
      ['AwsSolutions-IAM5[Action::s3:Abort*]', `${deployOnly} CDK grants write of the console bucket by wildcard actions (grantReadWrite).`],
      ['AwsSolutions-IAM5[Action::s3:DeleteObject*]', `${deployOnly} It deletes files of the previous console version (prune) and all of them when the deployment is removed.`],
      [`AwsSolutions-IAM5[Resource::${nagArnRef(this.bucket.node.defaultChild as CfnBucket)}/*]`, `${deployOnly} It writes every object of the console bucket, which holds nothing else.`],
      ['AwsSolutions-L1', `${deployOnly} Its Python runtime is pinned by the aws-cdk-lib release.`],
      ['Serverless-LambdaDLQ', `${deployOnly} Invoked synchronously by CloudFormation, which reports a failure as a failed deployment: there is no event to dead-letter.`],
      ['Serverless-LambdaLatestVersion', `${deployOnly} Its runtime is pinned by the aws-cdk-lib release.`],
      ['Serverless-LambdaTracing', `${deployOnly} A few calls per deployment; its logs say what it did.`],
    ];
    for (const [rule, reason] of acks) acknowledgeNag(handler, rule, reason);
  }
}
