/* eslint-disable @typescript-eslint/no-explicit-any -- the synthesized template is untyped JSON */
import { Match, Template } from 'aws-cdk-lib/assertions';
import { UPLOAD_SESSION_SECONDS } from '../../lambda/core/upload';
import { ENV } from '../../lambda/shared/config';
import { grantStatements, keyGrantStatements, SERVICE_FUNCTIONS, type GrantStatement, type ServiceFunctionName } from '../../lambda/shared/grants';
import { SIGNING_KEY_NAMES, SIGNING_KEY_PURPOSES, type SigningKeyPurpose } from '../../lambda/shared/signing-keys';
import type { LogicalBucket } from '../../lambda/shared/keys';
import { ROUTES } from '../../lambda/shared/routes';
import { COMPLETION_CLAIM_DAYS } from '../../lib/constructs/storage';
import { origins } from '../../lib/context';
import { buildStack, logicalId, normalizeTemplate } from './helpers';

const { stack } = buildStack();
const template = Template.fromStack(stack);
const resources = template.toJSON().Resources as Record<string, { Type: string; Properties: Record<string, any> }>;

const bucketIds = [stack.storage.uploads, stack.storage.results, stack.storage.accessLogs].map(logicalId);

/** The ARN a bucket stands for in these tests: its logical id as the bucket name. */
const arnOfBucket = (bucketLogicalId: string) => `arn:aws:s3:::${bucketLogicalId}`;

/** The ARNs to hand grantStatements(), so its output can be compared with the template. */
const dataBucketArns: Record<LogicalBucket, string> = {
  uploads: arnOfBucket(logicalId(stack.storage.uploads)),
  results: arnOfBucket(logicalId(stack.storage.results)),
};

/**
 * A policy resource as a string: a bucket's `Fn::GetAtt [id, Arn]` is `arnOfBucket(id)`, any other
 * `Fn::GetAtt` is `<id>`, an `Fn::Join` with "" joins its parts, anything else is its JSON.
 */
function renderResource(resource: unknown): string {
  if (typeof resource === 'string') return resource;
  const r = resource as Record<string, any>;
  if (r['Fn::GetAtt'] && r['Fn::GetAtt'][1] === 'Arn') {
    const id = r['Fn::GetAtt'][0] as string;
    return bucketIds.includes(id) ? arnOfBucket(id) : `<${id}>`;
  }
  if (r['Fn::Join'] && r['Fn::Join'][0] === '') return (r['Fn::Join'][1] as unknown[]).map(renderResource).join('');
  return JSON.stringify(resource);
}

/** One allowed (action, resource, condition) as `action resource[ if condition]`. */
function permission(action: string, resource: string, condition: unknown): string {
  return `${action} ${resource}${condition ? ` if ${JSON.stringify(condition)}` : ''}`;
}

/** Every (action, resource, condition) the role's policies allow, as `permission()` strings. */
function permissionsOf(roleLogicalId: string): string[] {
  const pairs: string[] = [];
  for (const res of Object.values(resources)) {
    if (res.Type !== 'AWS::IAM::Policy') continue;
    if (!(res.Properties.Roles as unknown[]).some((r) => JSON.stringify(r) === JSON.stringify({ Ref: roleLogicalId }))) continue;
    for (const statement of res.Properties.PolicyDocument.Statement as any[]) {
      expect(statement.Effect).toBe('Allow');
      const actions = [statement.Action].flat() as string[];
      const targets = [statement.Resource].flat();
      for (const action of actions) for (const target of targets) pairs.push(permission(action, renderResource(target), statement.Condition));
    }
  }
  return pairs.sort();
}

/**
 * Statements as the set of permissions they allow, so the template can be compared with
 * grantStatements(): with @aws-cdk/aws-iam:minimizePolicies (cdk.json) CDK merges statements that
 * share actions or resources and a condition, so the template has fewer, bigger statements that
 * allow exactly the same (action, resource, condition) triples.
 */
function permissionsIn(statements: readonly GrantStatement[]): string[] {
  const triples = statements.flatMap((s) => s.actions.flatMap((a) => s.resources.map((r) => permission(a, r, s.conditions))));
  return [...new Set(triples)].sort();
}

function s3PermissionsOf(name: ServiceFunctionName): string[] {
  return [...new Set(permissionsOf(logicalId(stack.functions[name].role!)).filter((p) => p.startsWith('s3:')))].sort();
}

describe('functions', () => {
  it.each(Object.entries({ default: {}, 'a throw-away stack (CDK\'s auto-delete function too)': { autoDeleteObjects: 'true' } }))(
    'logs every function of the stack in Lambda\'s JSON format at INFO (%s)',
    (_name, context) => {
      const { stack: built } = buildStack({ context });
      const functions = Object.values(Template.fromStack(built).toJSON().Resources as typeof resources).filter((r) => r.Type === 'AWS::Lambda::Function');
      expect(functions.length).toBeGreaterThan(Object.keys(SERVICE_FUNCTIONS).length);
      for (const fn of functions) {
        expect(fn.Properties.LoggingConfig).toMatchObject({ LogFormat: 'JSON', ApplicationLogLevel: 'INFO', SystemLogLevel: 'INFO' });
      }
    },
  );

  it.each(Object.keys(stack.functions) as (keyof typeof stack.functions)[])(
    'runs %s on Node.js 24 on arm64 with the exported handler and active tracing',
    (name) => {
      const fn = resources[logicalId(stack.functions[name])]!.Properties;
      expect(fn).toMatchObject({
        Handler: 'index.handler',
        Runtime: 'nodejs24.x',
        Architectures: ['arm64'],
        TracingConfig: { Mode: 'Active' },
      });
    },
  );

  it.each(Object.keys(stack.functions) as (keyof typeof stack.functions)[])(
    'does not load source maps in %s by default, so cold starts skip parsing the .map',
    (name) => {
      expect(resources[logicalId(stack.functions[name])]!.Properties.Environment.Variables).not.toHaveProperty('NODE_OPTIONS');
    },
  );

  it('loads source maps in every function when the sourceMaps context flag is true', () => {
    const { stack: debug } = buildStack({ context: { sourceMaps: 'true' } });
    const json = Template.fromStack(debug).toJSON().Resources;
    const options = Object.values(debug.functions).map((fn) => json[logicalId(fn)].Properties.Environment.Variables.NODE_OPTIONS);
    expect(options).toEqual(Array(Object.keys(SERVICE_FUNCTIONS).length).fill('--enable-source-maps'));
  });

  it.each(Object.keys(SERVICE_FUNCTIONS) as ServiceFunctionName[])(
    'builds the %s function with the description, memory and timeout of its row in the grants table',
    (name) => {
      const { description, memorySize, timeoutSeconds } = SERVICE_FUNCTIONS[name];
      expect(resources[logicalId(stack.functions[name])]!.Properties).toMatchObject({
        Description: description,
        MemorySize: memorySize,
        Timeout: timeoutSeconds,
      });
    },
  );

  it('builds no Node.js function that has no row in the grants table', () => {
    const built = Object.values(resources)
      .filter((r) => r.Type === 'AWS::Lambda::Function' && String(r.Properties.Runtime).startsWith('nodejs'))
      .map((r) => r.Properties.Description as string);
    expect(built.sort()).toEqual(Object.values(SERVICE_FUNCTIONS).map((f) => f.description).sort());
  });

  it('gives the processor two vCPUs (3538 MB) and 5 minutes, the API functions 512 MB and 10 seconds, the fan-out range and merge a vCPU and 15 minutes', () => {
    const limits = Object.fromEntries(
      Object.entries(stack.functions).map(([name, fn]) => {
        const p = resources[logicalId(fn)]!.Properties;
        return [name, [p.MemorySize, p.Timeout]];
      }),
    );
    expect(limits).toEqual({
      list: [512, 10],
      read: [512, 10],
      upload: [512, 10],
      process: [3538, 300],
      fanOutPlan: [512, 60],
      fanOutRange: [1769, 900],
      fanOutMerge: [1769, 900],
    });
  });

  const keyRef = (purpose: SigningKeyPurpose) => ({ Ref: logicalId(stack.signingKeys.secrets[purpose]) });

  it.each([
    ['list', { [SIGNING_KEY_PURPOSES.cursor.envVar]: keyRef('cursor') }],
    ['read', {}],
    ['upload', { [SIGNING_KEY_PURPOSES.upload.envVar]: keyRef('upload') }],
  ] as const)('sets the buckets, origins and the ARNs of its own keys for the %s function', (name, keys) => {
    const vars = resources[logicalId(stack.functions[name])]!.Properties.Environment.Variables;
    expect(vars).toEqual({
      [ENV.uploadsBucket]: { Ref: logicalId(stack.storage.uploads) },
      [ENV.resultsBucket]: { Ref: logicalId(stack.storage.results) },
      ...keys,
      // The web console's origin, always there (lib/constructs/console.ts).
      [ENV.allowedOrigins]: consoleOrigin(stack),
    });
  });

  it('sets only the buckets and the fan-out (threshold, state machine) for the process function, which signs nothing', () => {
    const vars = resources[logicalId(stack.functions.process)]!.Properties.Environment.Variables;
    expect(Object.keys(vars).sort()).toEqual([ENV.resultsBucket, ENV.uploadsBucket, ENV.fanOutBytes, ENV.fanOutStateMachineArn].sort());
  });

  it.each(['fanOutPlan', 'fanOutRange', 'fanOutMerge'] as const)('sets only the buckets for the %s function', (name) => {
    const vars = resources[logicalId(stack.functions[name])]!.Properties.Environment.Variables;
    expect(Object.keys(vars).sort()).toEqual([ENV.resultsBucket, ENV.uploadsBucket].sort());
  });

  // The issue's finding: the HMAC key was a `{{resolve:secretsmanager:…}}` reference, resolved at
  // deploy time into every function's configuration, readable with lambda:GetFunctionConfiguration.
  it('puts no secret value and no dynamic reference in any function environment', () => {
    const functions = Object.values(resources).filter((r) => r.Type === 'AWS::Lambda::Function');
    expect(functions.length).toBeGreaterThanOrEqual(4);
    for (const fn of functions) {
      const env = JSON.stringify(fn.Properties.Environment ?? {});
      expect(env).not.toContain('{{resolve:');
      // A secret may be named only by its ARN (Ref), never read (GetAtt, Join around a reference).
      const secretIds = Object.entries(resources).filter(([, r]) => r.Type === 'AWS::SecretsManager::Secret').map(([id]) => id);
      for (const [, value] of Object.entries((fn.Properties.Environment?.Variables ?? {}) as Record<string, unknown>)) {
        const text = JSON.stringify(value);
        if (secretIds.some((id) => text.includes(`"${id}"`))) expect(secretIds.map((id) => ({ Ref: id }))).toContainEqual(value);
      }
    }
  });

  it('creates one secret per signing key purpose, each with a generated value', () => {
    const secrets = Object.values(resources).filter((r) => r.Type === 'AWS::SecretsManager::Secret');
    expect(secrets.map((s) => s.Properties.Description).sort()).toEqual(SIGNING_KEY_NAMES.map((p) => SIGNING_KEY_PURPOSES[p].description).sort());
    for (const s of secrets) {
      expect(s.Properties.GenerateSecretString).toEqual({ PasswordLength: 64, ExcludePunctuation: true });
      expect(s.Properties).not.toHaveProperty('SecretString');
    }
  });

  it('writes each function to its own log group kept for one month', () => {
    for (const fn of Object.values(stack.functions)) {
      const logGroupId = resources[logicalId(fn)]!.Properties.LoggingConfig.LogGroup.Ref as string;
      expect(resources[logGroupId]!.Properties.RetentionInDays).toBe(30);
    }
  });

  it('never sets S3_ENDPOINT in AWS', () => {
    for (const fn of Object.values(stack.functions)) {
      expect(resources[logicalId(fn)]!.Properties.Environment.Variables).not.toHaveProperty(ENV.s3Endpoint);
    }
  });
});

describe('permissions', () => {
  // The template and the grants table must agree exactly: a grant added in lib/ and not in the
  // table, or the other way round, fails here.
  it.each(Object.keys(SERVICE_FUNCTIONS) as ServiceFunctionName[])(
    'gives the %s function exactly the S3 statements of its row in the grants table',
    (name) => {
      const expected = permissionsIn(grantStatements(name, dataBucketArns));
      expect(expected.length).toBeGreaterThan(0);
      expect(s3PermissionsOf(name)).toEqual(expected);
    },
  );

  it.each(Object.keys(SERVICE_FUNCTIONS) as ServiceFunctionName[])(
    'lets the %s function read exactly the secrets of the keys in its row of the grants table',
    (name) => {
      const arns = Object.fromEntries(SIGNING_KEY_NAMES.map((p) => [p, JSON.stringify({ Ref: logicalId(stack.signingKeys.secrets[p]) })])) as Record<SigningKeyPurpose, string>;
      const granted = [...new Set(permissionsOf(logicalId(stack.functions[name].role!)).filter((p) => p.startsWith('secretsmanager:')))].sort();
      expect(granted).toEqual(permissionsIn(keyGrantStatements(name, arns)));
    },
  );

  it.each([
    ['list', ['cursor']],
    ['read', []],
    ['upload', ['upload']],
    ['process', []],
    ['fanOutPlan', []],
    ['fanOutRange', []],
    ['fanOutMerge', []],
  ] as const)('has a grants table that gives the %s function the keys %p', (name, keys) => {
    expect(SERVICE_FUNCTIONS[name].keys).toEqual(keys);
  });

  // What the table grants, as intent: the reader cannot write, the lister cannot read bodies.
  it.each([
    ['list', 'list only the user area of both buckets', { uploads: ['list'], results: ['list'] }],
    ['read', 'read objects in the user area and tell missing keys from forbidden ones', { uploads: ['exists', 'read'], results: ['exists', 'read'] }],
    [
      'upload',
      'write and delete uploads, delete results and keep its completion claims, nothing else',
      { uploads: ['writeMultipart', 'delete'], results: ['delete', 'completionClaims'] },
    ],
    ['process', 'read uploads and read and write results', { uploads: ['exists', 'read'], results: ['exists', 'read', 'write'] }],
    ['fanOutPlan', 'read uploads (HEAD and the first bytes) and nothing in results', { uploads: ['exists', 'read'], results: [] }],
    ['fanOutRange', 'read uploads and put its partial profile under fan-out/', { uploads: ['read'], results: ['putFanOutParts'] }],
    [
      'fanOutMerge',
      'read uploads (to re-run a range), read and write profiles, take the partial profiles',
      { uploads: ['read'], results: ['exists', 'read', 'write', 'takeFanOutParts'] },
    ],
  ] as const)('has a grants table that lets the %s function %s', (name, _what, expected) => {
    expect(SERVICE_FUNCTIONS[name].buckets).toEqual(expected);
  });

  // lambda/core/process.ts reads the stored profile before writing one; for a new upload it does
  // not exist, and without s3:ListBucket S3 answers 403 AccessDenied, so no first profile is written.
  it('the processor may list the results bucket, so a missing profile is 404 not 403', () => {
    expect(s3PermissionsOf('process')).toContain(permission('s3:ListBucket', dataBucketArns.results, undefined));
  });

  it('lets the process function consume only its queue', () => {
    const sqs = permissionsOf(logicalId(stack.functions.process.role!)).filter((p) => p.startsWith('sqs:'));
    const queue = `<${logicalId(stack.processing.queue)}>`;
    expect(sqs).toEqual(
      ['sqs:ChangeMessageVisibility', 'sqs:DeleteMessage', 'sqs:GetQueueAttributes', 'sqs:GetQueueUrl', 'sqs:ReceiveMessage'].map(
        (a) => `${a} ${queue}`,
      ),
    );
  });

  it('lets each function write only to its own log group', () => {
    for (const fn of Object.values(stack.functions)) {
      const logGroup = `<${resources[logicalId(fn)]!.Properties.LoggingConfig.LogGroup.Ref}>`;
      const logs = permissionsOf(logicalId(fn.role!)).filter((p) => p.startsWith('logs:'));
      expect(logs).toEqual([`logs:CreateLogStream ${logGroup}`, `logs:PutLogEvents ${logGroup}`]);
    }
  });

  it('attaches no AWS managed policy to the function roles', () => {
    for (const fn of Object.values(stack.functions)) {
      expect(resources[logicalId(fn.role!)]!.Properties.ManagedPolicyArns).toBeUndefined();
    }
  });
});

/** `https://<the console's distribution>`, as the template spells it. */
function consoleOrigin(s: typeof stack): { 'Fn::Join': [string, unknown[]] } {
  return { 'Fn::Join': ['', ['https://', { 'Fn::GetAtt': [logicalId(s.console.distribution), 'DomainName'] }]] };
}

describe('buckets', () => {
  const buckets = Object.values(resources).filter((r) => r.Type === 'AWS::S3::Bucket');

  it('has exactly the uploads, results, access-log and console buckets', () => {
    expect(buckets).toHaveLength(4);
  });

  it('blocks public access, encrypts with S3-managed keys and disables ACLs on every bucket', () => {
    for (const bucket of buckets) {
      expect(bucket.Properties).toMatchObject({
        PublicAccessBlockConfiguration: { BlockPublicAcls: true, BlockPublicPolicy: true, IgnorePublicAcls: true, RestrictPublicBuckets: true },
        BucketEncryption: { ServerSideEncryptionConfiguration: [{ ServerSideEncryptionByDefault: { SSEAlgorithm: 'AES256' } }] },
        OwnershipControls: { Rules: [{ ObjectOwnership: 'BucketOwnerEnforced' }] },
      });
    }
  });

  it('denies requests without TLS on every bucket', () => {
    for (const id of bucketIds) {
      template.hasResourceProperties('AWS::S3::BucketPolicy', {
        Bucket: { Ref: id },
        PolicyDocument: {
          Statement: Match.arrayWith([
            Match.objectLike({ Effect: 'Deny', Action: 's3:*', Condition: { Bool: { 'aws:SecureTransport': 'false' } } }),
          ]),
        },
      });
    }
  });

  it('sends server access logs of uploads and results to the log bucket, which logs nowhere', () => {
    const accessLogs = logicalId(stack.storage.accessLogs);
    expect(resources[logicalId(stack.storage.uploads)]!.Properties.LoggingConfiguration).toEqual({
      DestinationBucketName: { Ref: accessLogs },
      LogFilePrefix: 'uploads/',
    });
    expect(resources[logicalId(stack.storage.results)]!.Properties.LoggingConfiguration).toEqual({
      DestinationBucketName: { Ref: accessLogs },
      LogFilePrefix: 'results/',
    });
    expect(resources[accessLogs]!.Properties.LoggingConfiguration).toBeUndefined();
  });

  it('lets S3 log delivery write to the log bucket through its bucket policy', () => {
    template.hasResourceProperties('AWS::S3::BucketPolicy', {
      Bucket: { Ref: logicalId(stack.storage.accessLogs) },
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({ Effect: 'Allow', Action: 's3:PutObject', Principal: { Service: 'logging.s3.amazonaws.com' } }),
        ]),
      },
    });
  });

  it('aborts incomplete multipart uploads once their upload ids have expired, not before', () => {
    expect(resources[logicalId(stack.storage.uploads)]!.Properties.LifecycleConfiguration.Rules).toContainEqual(
      expect.objectContaining({ AbortIncompleteMultipartUpload: { DaysAfterInitiation: 7 }, Status: 'Enabled' }),
    );
    expect(UPLOAD_SESSION_SECONDS).toBe(7 * 24 * 3600);
  });

  it('expires completion claims in the results bucket a day after the upload ids that name them, and fan-out parts after two days', () => {
    expect(resources[logicalId(stack.storage.results)]!.Properties.LifecycleConfiguration.Rules).toEqual([
      { Id: 'ExpireCompletionClaims', Prefix: 'completions/', ExpirationInDays: 8, Status: 'Enabled' },
      { Id: 'ExpireFanOutParts', Prefix: 'fan-out/', ExpirationInDays: 2, Status: 'Enabled' },
    ]);
    expect(COMPLETION_CLAIM_DAYS * 24 * 3600).toBeGreaterThan(UPLOAD_SESSION_SECONDS);
  });

  it('versions the uploads bucket', () => {
    expect(resources[logicalId(stack.storage.uploads)]!.Properties.VersioningConfiguration).toEqual({ Status: 'Enabled' });
  });

  it('retains the data buckets by default', () => {
    const json = template.toJSON().Resources;
    expect(json[logicalId(stack.storage.uploads)].DeletionPolicy).toBe('Retain');
    expect(json[logicalId(stack.storage.results)].DeletionPolicy).toBe('Retain');
  });

  it('allows only the web console\'s origin on the data buckets when no other origin is configured', () => {
    for (const data of [stack.storage.uploads, stack.storage.results]) {
      expect(resources[logicalId(data)]!.Properties.CorsConfiguration.CorsRules.map((r: { AllowedOrigins: unknown }) => r.AllowedOrigins)).toEqual([[consoleOrigin(stack)]]);
    }
    for (const other of [stack.storage.accessLogs, stack.console.bucket]) expect(resources[logicalId(other)]!.Properties.CorsConfiguration).toBeUndefined();
  });

  it('allows browser uploads from the configured origins and exposes ETag', () => {
    const { stack: withOrigins } = buildStack({ context: { allowedOrigins: 'https://app.example.com' } });
    const uploads = Template.fromStack(withOrigins).toJSON().Resources[logicalId(withOrigins.storage.uploads)];
    const [rule] = uploads.Properties.CorsConfiguration.CorsRules;
    expect(rule.AllowedOrigins).toEqual(['https://app.example.com', consoleOrigin(withOrigins)]);
    expect(rule.AllowedMethods).toEqual(expect.arrayContaining(['GET', 'PUT', 'HEAD', 'POST']));
    expect(rule.ExposedHeaders).toContain('ETag');
  });

  it('deletes buckets with their objects only when autoDeleteObjects=true', () => {
    const { stack: dev } = buildStack({ context: { autoDeleteObjects: 'true' } });
    const json = Template.fromStack(dev).toJSON().Resources;
    expect(json[logicalId(dev.storage.uploads)].DeletionPolicy).toBe('Delete');
    Template.fromStack(dev).resourceCountIs('Custom::S3AutoDeleteObjects', 3);
  });
});

describe('context', () => {
  it('reads allowedOrigins from a comma-separated string or an array', () => {
    expect(origins('https://a.example.com, https://b.example.com')).toEqual(['https://a.example.com', 'https://b.example.com']);
    expect(origins(['https://a.example.com'])).toEqual(['https://a.example.com']);
  });

  it('refuses a wildcard origin', () => {
    expect(() => origins('*')).toThrow(/no "\*"/);
  });
});

describe('processing', () => {
  it('sends every ObjectCreated event under users/ in the uploads bucket to the queue', () => {
    template.hasResourceProperties('Custom::S3BucketNotifications', {
      BucketName: { Ref: logicalId(stack.storage.uploads) },
      NotificationConfiguration: {
        QueueConfigurations: [
          {
            Events: ['s3:ObjectCreated:*'],
            Filter: { Key: { FilterRules: [{ Name: 'prefix', Value: 'users/' }] } },
            QueueArn: { 'Fn::GetAtt': [logicalId(stack.processing.queue), 'Arn'] },
          },
        ],
      },
    });
  });

  it('has no notification on the results bucket, so the processor cannot trigger itself', () => {
    const notified = template.findResources('Custom::S3BucketNotifications');
    for (const res of Object.values(notified)) {
      expect(res.Properties.BucketName).toEqual({ Ref: logicalId(stack.storage.uploads) });
    }
  });

  it('encrypts both queues, requires TLS and moves a message to the DLQ after 5 receives (AWS: at least 5 for a Lambda consumer)', () => {
    const queue = resources[logicalId(stack.processing.queue)]!.Properties;
    expect(queue.RedrivePolicy).toEqual({
      deadLetterTargetArn: { 'Fn::GetAtt': [logicalId(stack.processing.deadLetterQueue), 'Arn'] },
      maxReceiveCount: 5,
    });
    for (const q of [stack.processing.queue, stack.processing.deadLetterQueue]) {
      expect(resources[logicalId(q)]!.Properties.SqsManagedSseEnabled).toBe(true);
      template.hasResourceProperties('AWS::SQS::QueuePolicy', {
        Queues: [{ Ref: logicalId(q) }],
        PolicyDocument: { Statement: Match.arrayWith([Match.objectLike({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } })]) },
      });
    }
  });

  it('keeps messages invisible for at least six times the processor timeout', () => {
    const timeout = resources[logicalId(stack.functions.process)]!.Properties.Timeout as number;
    expect(resources[logicalId(stack.processing.queue)]!.Properties.VisibilityTimeout).toBeGreaterThanOrEqual(6 * timeout);
  });

  it('feeds the processor in batches of 10 with partial batch failures reported', () => {
    template.hasResourceProperties('AWS::Lambda::EventSourceMapping', {
      EventSourceArn: { 'Fn::GetAtt': [logicalId(stack.processing.queue), 'Arn'] },
      FunctionName: { Ref: logicalId(stack.functions.process) },
      BatchSize: 10,
      FunctionResponseTypes: ['ReportBatchItemFailures'],
    });
  });

  it('alarms when any message is visible in the dead-letter queue', () => {
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      Namespace: 'AWS/SQS',
      MetricName: 'ApproximateNumberOfMessagesVisible',
      Dimensions: [{ Name: 'QueueName', Value: { 'Fn::GetAtt': [logicalId(stack.processing.deadLetterQueue), 'QueueName'] } }],
      ComparisonOperator: 'GreaterThanThreshold',
      Threshold: 0,
    });
  });
});

describe('api', () => {
  const methods = Object.values(resources).filter((r) => r.Type === 'AWS::ApiGateway::Method');
  const paths = new Map<string, string>();
  // Rebuild each API resource's full path from its PathPart and parent.
  const apiResources = Object.entries(resources).filter(([, r]) => r.Type === 'AWS::ApiGateway::Resource');
  const pathOf = (id: string): string => {
    const cached = paths.get(id);
    if (cached !== undefined) return cached;
    const res = resources[id];
    if (!res || res.Type !== 'AWS::ApiGateway::Resource') return '';
    const parent = res.Properties.ParentId.Ref as string | undefined;
    const full = `${parent ? pathOf(parent) : ''}/${res.Properties.PathPart}`;
    paths.set(id, full);
    return full;
  };
  apiResources.forEach(([id]) => pathOf(id));
  const routeOf = (m: (typeof methods)[number]) => `${m.Properties.HttpMethod} ${m.Properties.ResourceId.Ref ? pathOf(m.Properties.ResourceId.Ref) : '/'}`;

  const routed = methods.filter((m) => m.Properties.HttpMethod !== 'OPTIONS');

  it('has exactly one method per route-table row, and CORS preflights', () => {
    expect(routed.map(routeOf).sort()).toEqual(ROUTES.map((r) => `${r.method} ${r.resource}`).sort());
  });

  it.each(ROUTES.map((r) => [`${r.method} ${r.resource}`, r] as const))('integrates %s with its function through a Cognito authorizer', (_name, route) => {
    const method = methods.find((m) => routeOf(m) === `${route.method} ${route.resource}`)!;
    expect(method.Properties.AuthorizationType).toBe('COGNITO_USER_POOLS');
    expect(method.Properties.AuthorizerId).toEqual({ Ref: Object.keys(template.findResources('AWS::ApiGateway::Authorizer'))[0] });
    expect(method.Properties.Integration.Type).toBe('AWS_PROXY');
    expect(JSON.stringify(method.Properties.Integration.Uri)).toContain(logicalId(stack.functions[route.fn]));
  });

  it.each(Object.entries({ default: {}, 'browser origins': { allowedOrigins: 'https://app.example.com' } }))(
    'has no method but the OPTIONS preflight without the Cognito authorizer (%s)',
    (_name, context) => {
      const { stack: built } = buildStack({ context });
      const all = Object.values(Template.fromStack(built).findResources('AWS::ApiGateway::Method'));
      const unauthorized = all
        .filter((m) => m.Properties.HttpMethod !== 'OPTIONS' && m.Properties.AuthorizationType !== 'COGNITO_USER_POOLS')
        .map((m) => `${m.Properties.HttpMethod} ${JSON.stringify(m.Properties.ResourceId)}`);
      expect(all.length).toBeGreaterThan(ROUTES.length - 1);
      expect(unauthorized).toEqual([]);
    },
  );

  it('uses one Cognito user-pool authorizer for the user pool', () => {
    template.resourceCountIs('AWS::ApiGateway::Authorizer', 1);
    template.hasResourceProperties('AWS::ApiGateway::Authorizer', {
      Type: 'COGNITO_USER_POOLS',
      ProviderARNs: [{ 'Fn::GetAtt': [logicalId(stack.auth.userPool), 'Arn'] }],
    });
  });

  it('answers CORS preflight without authorization for the web console\'s origin', () => {
    const options = methods.filter((m) => m.Properties.HttpMethod === 'OPTIONS');
    expect(options.length).toBeGreaterThan(0);
    for (const m of options) {
      expect(m.Properties.AuthorizationType).toBe('NONE');
      expect(JSON.stringify(m.Properties.Integration)).toContain(JSON.stringify(consoleOrigin(stack)['Fn::Join'][1][1]));
      expect(JSON.stringify(m.Properties.Integration)).not.toContain("'*'");
    }
  });

  it('answers CORS preflight without authorization for configured origins too', () => {
    const { stack: withOrigins } = buildStack({ context: { allowedOrigins: 'https://app.example.com' } });
    const options = Object.values(Template.fromStack(withOrigins).findResources('AWS::ApiGateway::Method')).filter(
      (m) => m.Properties.HttpMethod === 'OPTIONS',
    );
    expect(options.length).toBeGreaterThan(0);
    for (const m of options) {
      expect(m.Properties.AuthorizationType).toBe('NONE');
      expect(JSON.stringify(m.Properties.Integration)).toContain('https://app.example.com');
      expect(JSON.stringify(m.Properties.Integration)).not.toContain("'*'");
    }
  });

  const stageSettings = () => Object.values(template.findResources('AWS::ApiGateway::Stage'))[0]!.Properties.MethodSettings as any[];

  it('logs access and errors, traces the stage and throttles each method at 50 requests/s, bursts of 100, by default', () => {
    template.hasResourceProperties('AWS::ApiGateway::Stage', {
      TracingEnabled: true,
      AccessLogSetting: { DestinationArn: Match.anyValue(), Format: Match.stringLikeRegexp('requestId') },
      MethodSettings: Match.arrayWith([
        { ResourcePath: '/*', HttpMethod: '*', LoggingLevel: 'ERROR', DataTraceEnabled: false, MetricsEnabled: true, ThrottlingRateLimit: 50, ThrottlingBurstLimit: 100 },
      ]),
    });
  });

  it('has no method with throttling or logging of its own (every method is behind the authorizer)', () => {
    expect(stageSettings().map((s) => s.ResourcePath)).toEqual(['/*']);
  });

  it('takes throttling from context', () => {
    const { stack: custom } = buildStack({ context: { throttleRateLimit: '5', throttleBurstLimit: '10' } });
    Template.fromStack(custom).hasResourceProperties('AWS::ApiGateway::Stage', {
      MethodSettings: Match.arrayWith([
        Match.objectLike({ ResourcePath: '/*', ThrottlingRateLimit: 5, ThrottlingBurstLimit: 10 }),
      ]),
    });
  });

  it('does not set the account\'s API Gateway logging role (an account-wide setting the stack would overwrite)', () => {
    template.resourceCountIs('AWS::ApiGateway::Account', 0);
    const apiGatewayRoles = Object.values(template.findResources('AWS::IAM::Role')).filter((r) =>
      JSON.stringify(r.Properties.AssumeRolePolicyDocument).includes('apigateway.amazonaws.com'),
    );
    expect(apiGatewayRoles).toEqual([]);
  });

  it.each(['DEFAULT_4XX', 'DEFAULT_5XX'])('answers %s from API Gateway with X-Content-Type-Options: nosniff', (type) => {
    template.hasResourceProperties('AWS::ApiGateway::GatewayResponse', {
      ResponseType: type,
      ResponseParameters: Match.objectLike({ 'gatewayresponse.header.X-Content-Type-Options': "'nosniff'" }),
    });
  });

  it.each(['DEFAULT_4XX', 'DEFAULT_5XX'])('answers %s from API Gateway with the JSON error body', (type) => {
    template.hasResourceProperties('AWS::ApiGateway::GatewayResponse', {
      ResponseType: type,
      ResponseTemplates: { 'application/json': '{"error":{"code":"$context.error.responseType","message":$context.error.messageString}}' },
    });
  });

  it('adds the web console\'s origin to API Gateway error responses', () => {
    template.hasResourceProperties('AWS::ApiGateway::GatewayResponse', {
      ResponseType: 'DEFAULT_4XX',
      ResponseParameters: Match.objectLike({
        'gatewayresponse.header.Access-Control-Allow-Origin': { 'Fn::Join': ['', ["'https://", { 'Fn::GetAtt': [logicalId(stack.console.distribution), 'DomainName'] }, "'"]] },
      }),
    });
  });

  it('validates that POST bodies are JSON objects', () => {
    for (const m of methods.filter((x) => x.Properties.HttpMethod === 'POST')) {
      expect(m.Properties.RequestValidatorId).toBeDefined();
      expect(m.Properties.RequestModels).toHaveProperty(['application/json']);
    }
  });
});

describe('auth', () => {
  it('lets only administrators create users, who sign in with email and a strong password', () => {
    template.hasResourceProperties('AWS::Cognito::UserPool', {
      AdminCreateUserConfig: { AllowAdminCreateUserOnly: true },
      UsernameAttributes: ['email'],
      Policies: { PasswordPolicy: { MinimumLength: 12, RequireLowercase: true, RequireUppercase: true, RequireNumbers: true, RequireSymbols: true } },
    });
  });

  it('has a public client that signs in by SRP only (and refreshes), never by sending the password', () => {
    template.hasResourceProperties('AWS::Cognito::UserPoolClient', {
      GenerateSecret: false,
      ExplicitAuthFlows: ['ALLOW_USER_SRP_AUTH', 'ALLOW_REFRESH_TOKEN_AUTH'],
      AllowedOAuthFlows: Match.absent(),
    });
  });

  it('keeps refresh tokens for 7 days at most, ID and access tokens for an hour, and revokes them on sign-out', () => {
    const client = Object.values(template.findResources('AWS::Cognito::UserPoolClient'))[0]!.Properties;
    const minutes = (value: number, unit: string) => value * ({ minutes: 1, hours: 60, days: 1440 } as Record<string, number>)[unit]!;
    expect(minutes(client.RefreshTokenValidity, client.TokenValidityUnits.RefreshToken)).toBeLessThanOrEqual(7 * 1440);
    expect(minutes(client.IdTokenValidity, client.TokenValidityUnits.IdToken)).toBe(60);
    expect(minutes(client.AccessTokenValidity, client.TokenValidityUnits.AccessToken)).toBe(60);
    expect(client.EnableTokenRevocation).toBe(true);
  });

  it('requires a TOTP code at every sign-in, and offers no SMS', () => {
    template.hasResourceProperties('AWS::Cognito::UserPool', { MfaConfiguration: 'ON', EnabledMfas: ['SOFTWARE_TOKEN_MFA'] });
  });

  it('treats user names (email addresses) case-insensitively', () => {
    template.hasResourceProperties('AWS::Cognito::UserPool', { UsernameConfiguration: { CaseSensitive: false } });
  });

  it('protects the user pool from deletion, and retains it', () => {
    template.hasResourceProperties('AWS::Cognito::UserPool', { DeletionProtection: 'ACTIVE' });
    expect(template.toJSON().Resources[logicalId(stack.auth.userPool)].DeletionPolicy).toBe('Retain');
  });

  it('lets a throw-away stack (autoDeleteObjects=true) delete its user pool', () => {
    const { stack: dev } = buildStack({ context: { autoDeleteObjects: 'true' } });
    const pool = Template.fromStack(dev).toJSON().Resources[logicalId(dev.auth.userPool)];
    expect(pool.Properties.DeletionProtection).toBe('INACTIVE');
    expect(pool.DeletionPolicy).toBe('Delete');
  });

  it('stays on the Essentials plan without threat protection by default', () => {
    template.hasResourceProperties('AWS::Cognito::UserPool', { UserPoolTier: 'ESSENTIALS', UserPoolAddOns: Match.absent() });
    template.resourceCountIs('AWS::Cognito::UserPoolRiskConfigurationAttachment', 0);
  });

  it('enforces threat protection on the Plus plan with threatProtection=true, blocking high-risk and leaked-password sign-ins', () => {
    const plus = Template.fromStack(buildStack({ context: { threatProtection: 'true' } }).stack);
    plus.hasResourceProperties('AWS::Cognito::UserPool', { UserPoolTier: 'PLUS', UserPoolAddOns: { AdvancedSecurityMode: 'ENFORCED' } });
    plus.hasResourceProperties('AWS::Cognito::UserPoolRiskConfigurationAttachment', {
      ClientId: 'ALL',
      AccountTakeoverRiskConfiguration: { Actions: Match.objectLike({ HighAction: { EventAction: 'BLOCK', Notify: false } }) },
      CompromisedCredentialsRiskConfiguration: { Actions: { EventAction: 'BLOCK' } },
    });
  });
});

describe('web console', () => {
  const distribution = () => Object.values(template.findResources('AWS::CloudFront::Distribution'))[0]!.Properties.DistributionConfig;

  it('serves the console bucket through CloudFront with origin access control, over HTTPS only', () => {
    template.resourceCountIs('AWS::CloudFront::Distribution', 1);
    template.resourceCountIs('AWS::CloudFront::OriginAccessControl', 1);
    template.hasResourceProperties('AWS::CloudFront::OriginAccessControl', {
      OriginAccessControlConfig: Match.objectLike({ OriginAccessControlOriginType: 's3', SigningBehavior: 'always', SigningProtocol: 'sigv4' }),
    });
    const config = distribution();
    expect(config.DefaultRootObject).toBe('index.html');
    expect(config.Origins).toHaveLength(1);
    expect(config.Origins[0].DomainName).toEqual({ 'Fn::GetAtt': [logicalId(stack.console.bucket), 'RegionalDomainName'] });
    expect(config.Origins[0].S3OriginConfig).toEqual({ OriginAccessIdentity: '' });
    expect(config.Origins[0].OriginAccessControlId).toBeDefined();
    expect(config.DefaultCacheBehavior.ViewerProtocolPolicy).toBe('redirect-to-https');
  });

  it('lets only this distribution read the console bucket', () => {
    const policy = Object.values(template.findResources('AWS::S3::BucketPolicy')).find((p) => JSON.stringify(p.Properties.Bucket) === JSON.stringify({ Ref: logicalId(stack.console.bucket) }))!;
    const reads = policy.Properties.PolicyDocument.Statement.filter((s: { Effect: string; Principal?: { Service?: string } }) => s.Effect === 'Allow');
    expect(reads).toEqual([
      expect.objectContaining({
        Action: 's3:GetObject',
        Principal: { Service: 'cloudfront.amazonaws.com' },
        Condition: { StringEquals: { 'AWS:SourceArn': expect.anything() } },
      }),
    ]);
  });

  it('sends a CSP without inline script, HSTS, nosniff, no framing and no referrer on every response', () => {
    const policy = Object.values(template.findResources('AWS::CloudFront::ResponseHeadersPolicy'))[0]!.Properties.ResponseHeadersPolicyConfig.SecurityHeadersConfig;
    const csp = JSON.stringify(policy.ContentSecurityPolicy.ContentSecurityPolicy);
    expect(csp).toContain("script-src 'self';");
    expect(csp).toContain("frame-ancestors 'none'");
    expect(csp).not.toContain('unsafe-');
    expect(policy).toMatchObject({
      StrictTransportSecurity: { AccessControlMaxAgeSec: 31536000, IncludeSubdomains: true, Override: true },
      ContentTypeOptions: { Override: true },
      FrameOptions: { FrameOption: 'DENY', Override: true },
      ReferrerPolicy: { ReferrerPolicy: 'no-referrer', Override: true },
    });
    const config = distribution();
    expect(config.CacheBehaviors).toBeUndefined();
    expect(config.DefaultCacheBehavior.ResponseHeadersPolicyId).toEqual({ Ref: logicalId(stack.console.headers) });
  });

  it('has a Cognito domain and a public client with the code grant back to the console only', () => {
    template.resourceCountIs('AWS::Cognito::UserPoolDomain', 1);
    template.hasResourceProperties('AWS::Cognito::UserPoolClient', {
      GenerateSecret: false,
      AllowedOAuthFlows: ['code'],
      AllowedOAuthFlowsUserPoolClient: true,
      AllowedOAuthScopes: Match.arrayWith(['openid']),
      CallbackURLs: [{ 'Fn::Join': ['', ['https://', { 'Fn::GetAtt': [logicalId(stack.console.distribution), 'DomainName'] }, '/']] }],
      LogoutURLs: [{ 'Fn::Join': ['', ['https://', { 'Fn::GetAtt': [logicalId(stack.console.distribution), 'DomainName'] }, '/']] }],
      SupportedIdentityProviders: ['COGNITO'],
      EnableTokenRevocation: true,
    });
  });

  it('deploys the built console and a config.json naming the API, the sign-in domain and the client, revalidated on every use', () => {
    const deployment = Object.values(template.findResources('Custom::CDKBucketDeployment'))[0]!.Properties;
    expect(deployment.DestinationBucketName).toEqual({ Ref: logicalId(stack.console.bucket) });
    expect(deployment.DistributionPaths).toBeUndefined();
    expect(deployment.SystemMetadata).toEqual({ 'cache-control': 'no-cache' });
    expect(deployment.RetainOnDelete).toBe(false);
    expect(deployment.SourceObjectKeys).toHaveLength(3);
    const config = JSON.stringify(deployment.SourceMarkers[1]);
    expect(config).toContain(logicalId(stack.api.restApi));
    expect(config).toContain(logicalId(stack.console.client));
  });

  it('deploys the OpenAPI document beside the console, its server the API stage, and names its URL in an output', () => {
    const deployment = Object.values(template.findResources('Custom::CDKBucketDeployment'))[0]!.Properties;
    // The third source is openapi.json; its only token is the API's URL (servers[0].url).
    const markers = JSON.stringify(deployment.SourceMarkers[2]);
    expect(markers).toContain(logicalId(stack.api.restApi));
    expect(markers).not.toContain(logicalId(stack.console.client));
    expect(template.toJSON().Outputs.OpenApiUrl.Value).toEqual({
      'Fn::Join': ['', ['https://', { 'Fn::GetAtt': [logicalId(stack.console.distribution), 'DomainName'] }, '/openapi.json']],
    });
  });
});

describe('outputs', () => {
  it('exports the API URL, console URL, OpenAPI URL, user pool, client, bucket names, region and alarm topic', () => {
    expect(Object.keys(template.toJSON().Outputs).sort()).toEqual(
      // ApiRestEndpoint…: the URL output RestApi adds, its logical id fixed by the construct path.
      ['AlarmTopicArn', 'ApiRestEndpointBB254783', 'ApiUrl', 'ConsoleUrl', 'OpenApiUrl', 'Region', 'ResultsBucketName', 'UploadsBucketName', 'UserPoolClientId', 'UserPoolId'],
    );
  });
});

describe('snapshot', () => {
  it('matches the normalised template', () => {
    expect(normalizeTemplate(template.toJSON())).toMatchSnapshot();
  });
});
