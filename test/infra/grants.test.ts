import { fanOutGrantStatements, grantStatements, SERVICE_FUNCTIONS, type ServiceFunctionName } from '../../lambda/shared/grants';

// The shape local mode's IAM evaluator reads: concrete ARNs in, plain statements out.
const arns = { uploads: 'arn:aws:s3:::s3fs-uploads', results: 'arn:aws:s3:::s3fs-results' };
const names = Object.keys(SERVICE_FUNCTIONS) as ServiceFunctionName[];

describe('grantStatements', () => {
  it('gives one statement per kind of access, uploads first, each bucket in table order', () => {
    expect(grantStatements('upload', arns)).toEqual([
      {
        actions: ['s3:PutObject', 's3:AbortMultipartUpload', 's3:ListMultipartUploadParts'],
        resources: ['arn:aws:s3:::s3fs-uploads/users/*'],
      },
      { actions: ['s3:DeleteObject'], resources: ['arn:aws:s3:::s3fs-uploads/users/*'] },
      { actions: ['s3:DeleteObject'], resources: ['arn:aws:s3:::s3fs-results/users/*'] },
      { actions: ['s3:GetObject', 's3:PutObject', 's3:DeleteObject'], resources: ['arn:aws:s3:::s3fs-results/completions/*'] },
    ]);
  });

  it('limits listing to prefixes under users/ and lets exists list the whole bucket', () => {
    expect(grantStatements('list', arns)).toEqual([
      { actions: ['s3:ListBucket'], resources: ['arn:aws:s3:::s3fs-uploads'], conditions: { StringLike: { 's3:prefix': ['users/*'] } } },
      { actions: ['s3:ListBucket'], resources: ['arn:aws:s3:::s3fs-results'], conditions: { StringLike: { 's3:prefix': ['users/*'] } } },
    ]);
    expect(grantStatements('read', arns)).toEqual([
      { actions: ['s3:ListBucket'], resources: ['arn:aws:s3:::s3fs-uploads'] },
      { actions: ['s3:GetObject'], resources: ['arn:aws:s3:::s3fs-uploads/users/*'] },
      { actions: ['s3:ListBucket'], resources: ['arn:aws:s3:::s3fs-results'] },
      { actions: ['s3:GetObject'], resources: ['arn:aws:s3:::s3fs-results/users/*'] },
    ]);
  });

  it.each(names)('allows the %s function object actions only in the user area (and its completion claims or fan-out parts) and ListBucket only on the bucket', (name) => {
    for (const { actions, resources } of grantStatements(name, arns)) {
      for (const resource of resources) {
        const onBucket = Object.values(arns).includes(resource);
        const claims = resource === `${arns.results}/completions/*`;
        const parts = resource === `${arns.results}/fan-out/*`;
        if (onBucket) expect(actions).toEqual(['s3:ListBucket']);
        else if (claims) expect([name, actions]).toEqual(['upload', ['s3:GetObject', 's3:PutObject', 's3:DeleteObject']]);
        else if (parts) expect([['fanOutRange', ['s3:PutObject']], ['fanOutMerge', ['s3:GetObject', 's3:DeleteObject']]]).toContainEqual([name, actions]);
        else expect(Object.values(arns).map((arn) => `${arn}/users/*`)).toContain(resource);
      }
    }
  });

  it('returns new statements on every call, so a caller that changes one changes no other call', () => {
    const [listing] = grantStatements('list', arns);
    listing!.conditions!.StringLike!['s3:prefix']!.push('*');
    const [multipart] = grantStatements('upload', arns);
    multipart!.actions.push('s3:GetObject');

    expect(grantStatements('list', arns)[0]!.conditions).toEqual({ StringLike: { 's3:prefix': ['users/*'] } });
    expect(grantStatements('upload', arns)[0]!.actions).toEqual(['s3:PutObject', 's3:AbortMultipartUpload', 's3:ListMultipartUploadParts']);
  });

  it('lets only the processor start the fan-out, and only the state machine it is given', () => {
    const arn = 'arn:aws:states:eu-west-1:111111111111:stateMachine:fan-out';
    const starters = names.filter((name) => fanOutGrantStatements(name, arn).length > 0);

    expect(starters).toEqual(['process']);
    expect(fanOutGrantStatements('process', arn)).toEqual([{ actions: ['states:StartExecution'], resources: [arn] }]);
  });
});
