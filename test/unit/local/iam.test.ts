import { isAllowed, PolicyError, validatePolicy, type PolicyStatement } from '../../../local/s3/iam';

const LIST_USERS: PolicyStatement = { actions: ['s3:ListBucket'], resources: ['arn:aws:s3:::b'], conditions: { StringLike: { 's3:prefix': ['users/*'] } } };
const READ_USERS: PolicyStatement = { actions: ['s3:GetObject'], resources: ['arn:aws:s3:::b/users/*'] };

describe('isAllowed', () => {
  it('allows an action on a resource matched by a wildcard', () => {
    expect(isAllowed([READ_USERS], { action: 's3:GetObject', resource: 'arn:aws:s3:::b/users/u/a/b.csv' })).toBe(true);
  });

  it('denies by default what no statement allows', () => {
    expect(isAllowed([READ_USERS], { action: 's3:PutObject', resource: 'arn:aws:s3:::b/users/u/a.csv' })).toBe(false);
    expect(isAllowed([READ_USERS], { action: 's3:GetObject', resource: 'arn:aws:s3:::b/other/a.csv' })).toBe(false);
    expect(isAllowed([READ_USERS], { action: 's3:GetObject', resource: 'arn:aws:s3:::bb/users/a.csv' })).toBe(false);
  });

  it('matches actions without regard to case, resources with it', () => {
    expect(isAllowed([READ_USERS], { action: 'S3:getobject', resource: 'arn:aws:s3:::b/users/x' })).toBe(true);
    expect(isAllowed([READ_USERS], { action: 's3:GetObject', resource: 'arn:aws:s3:::b/Users/x' })).toBe(false);
  });

  it('lets an explicit Deny win over an Allow', () => {
    const deny: PolicyStatement = { effect: 'Deny', actions: ['s3:*'], resources: ['arn:aws:s3:::b/users/secret/*'] };
    expect(isAllowed([READ_USERS, deny], { action: 's3:GetObject', resource: 'arn:aws:s3:::b/users/secret/x' })).toBe(false);
    expect(isAllowed([READ_USERS, deny], { action: 's3:GetObject', resource: 'arn:aws:s3:::b/users/open/x' })).toBe(true);
  });

  it('applies a StringLike condition to the request context, and fails it when the key is absent', () => {
    expect(isAllowed([LIST_USERS], { action: 's3:ListBucket', resource: 'arn:aws:s3:::b', context: { 's3:prefix': 'users/u/' } })).toBe(true);
    expect(isAllowed([LIST_USERS], { action: 's3:ListBucket', resource: 'arn:aws:s3:::b', context: { 's3:prefix': '' } })).toBe(false);
    expect(isAllowed([LIST_USERS], { action: 's3:ListBucket', resource: 'arn:aws:s3:::b' })).toBe(false);
  });

  it('holds a negated condition when the key is absent, as IAM does', () => {
    const notLike: PolicyStatement = { actions: ['s3:ListBucket'], resources: ['arn:aws:s3:::b'], conditions: { StringNotLike: { 's3:prefix': ['secret/*'] } } };
    expect(isAllowed([notLike], { action: 's3:ListBucket', resource: 'arn:aws:s3:::b' })).toBe(true);
    expect(isAllowed([notLike], { action: 's3:ListBucket', resource: 'arn:aws:s3:::b', context: { 's3:prefix': 'secret/x' } })).toBe(false);
  });

  it('reads ? as exactly one character', () => {
    const one: PolicyStatement = { actions: ['s3:GetObject'], resources: ['arn:aws:s3:::b/a?c'] };
    expect(isAllowed([one], { action: 's3:GetObject', resource: 'arn:aws:s3:::b/abc' })).toBe(true);
    expect(isAllowed([one], { action: 's3:GetObject', resource: 'arn:aws:s3:::b/ac' })).toBe(false);
  });
});

describe('validatePolicy', () => {
  it('refuses a condition operator it cannot evaluate, rather than reading it more permissively', () => {
    expect(() => validatePolicy([{ ...LIST_USERS, conditions: { IpAddress: { 'aws:SourceIp': ['10.0.0.0/8'] } } }])).toThrow(PolicyError);
  });
});
