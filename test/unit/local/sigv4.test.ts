import { createHash, createHmac } from 'node:crypto';
import { Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import {
  GetObjectCommand,
  PutObjectCommand,
  S3Client,
  UploadPartCommand,
  type S3ClientConfig,
} from '@aws-sdk/client-s3';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import { payloadVerifier } from '../../../local/s3/aws-chunked';
import { authenticate, S3AuthError, type AuthOptions, type IncomingS3Request } from '../../../local/s3/sigv4';
import cli from './fixtures/aws-cli-requests.json';
import { requestForUrl, startRecordingServer, type RecordedRequest, type RecordingServer } from './support/recording-server';

const ACCESS_KEY_ID = 'AKIALOCALTEST';
const SECRET = 'local-test-secret/with+chars';
const CREDENTIALS = { accessKeyId: ACCESS_KEY_ID, secretAccessKey: SECRET };
const BUCKET = 's3fs-uploads';
const SIGNED_AT = new Date('2026-03-02T10:00:00Z');
const SECOND = 1000;
const MINUTE = 60 * SECOND;

const clientConfig: S3ClientConfig = {
  endpoint: 'http://127.0.0.1:4569',
  forcePathStyle: true,
  region: 'us-east-1',
  credentials: CREDENTIALS,
  requestChecksumCalculation: 'WHEN_REQUIRED',
};

function options(now: Date, overrides: Partial<AuthOptions> = {}): AuthOptions {
  return {
    region: 'us-east-1',
    secretFor: (id) => (id === ACCESS_KEY_ID ? SECRET : undefined),
    now: () => now,
    ...overrides,
  };
}

/** What `authenticate` refused with, as S3 would put it in its error document. */
async function refusal(request: IncomingS3Request, authOptions: AuthOptions): Promise<S3AuthError> {
  const error = await authenticate(request, authOptions).then(
    () => undefined,
    (err: unknown) => err,
  );
  if (!(error instanceof S3AuthError)) throw new Error(`expected an S3AuthError, got ${String(error)}`);
  return error;
}

/** The time a header-signed request says it was signed, so tests need no clock. */
function signedAt(request: IncomingS3Request): Date {
  const stamp = String(request.headers['x-amz-date']);
  return new Date(stamp.replace(/^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/, '$1-$2-$3T$4:$5:$6Z'));
}

const sha256 = (data: string) => createHash('sha256').update(data).digest('hex');

describe('presigned URLs from the SDK', () => {
  const client = new S3Client(clientConfig);
  afterAll(() => client.destroy());

  const presignPut = (key: string, contentType = 'text/csv', contentLength = 5, expiresIn = 900) =>
    getSignedUrl(client, new PutObjectCommand({ Bucket: BUCKET, Key: key, ContentType: contentType, ContentLength: contentLength }), {
      expiresIn,
      signingDate: SIGNED_AT,
      signableHeaders: new Set(['content-type', 'content-length']),
    });
  const putRequest = (url: string, contentType = 'text/csv', contentLength = '5') =>
    requestForUrl('PUT', url, { 'content-type': contentType, 'content-length': contentLength });
  const presignGet = (key: string) =>
    getSignedUrl(client, new GetObjectCommand({ Bucket: BUCKET, Key: key }), { expiresIn: 900, signingDate: SIGNED_AT });

  it('accepts an untouched PutObject URL whose content type and length are signed', async () => {
    const url = await presignPut('users/alice/q1.csv');
    expect(new URL(url).searchParams.get('X-Amz-SignedHeaders')).toBe('content-length;content-type;host');

    const result = await authenticate(putRequest(url), options(SIGNED_AT));

    expect(result).toEqual({ accessKeyId: ACCESS_KEY_ID, presigned: true, payload: { kind: 'unsigned' } });
  });

  it('accepts an untouched GetObject URL', async () => {
    const url = await presignGet('users/alice/q1.csv');

    const result = await authenticate(requestForUrl('GET', url), options(new Date(SIGNED_AT.getTime() + 5 * MINUTE)));

    expect(result).toEqual({ accessKeyId: ACCESS_KEY_ID, presigned: true, payload: { kind: 'unsigned' } });
  });

  it('accepts an untouched UploadPart URL, whose upload id and part number are signed query parameters', async () => {
    const command = new UploadPartCommand({ Bucket: BUCKET, Key: 'users/alice/big.bin', UploadId: 'a+b/c=', PartNumber: 7 });
    const url = await getSignedUrl(client, command, { expiresIn: 900, signingDate: SIGNED_AT });

    const result = await authenticate(requestForUrl('PUT', url, { 'content-length': '8388608' }), options(SIGNED_AT));

    expect(result.presigned).toBe(true);
  });

  it.each([
    ['a space', 'users/alice/q1 final.csv'],
    ['a plus', 'users/alice/a+b.csv'],
    ['unicode', 'users/alice/ü/中文 é.csv'],
    ['a tilde', 'users/alice/~backup.csv'],
    ['an equals sign', 'users/alice/a=b&c.csv'],
  ])('accepts a PutObject URL for a key with %s', async (_name, key) => {
    const url = await presignPut(key);

    const result = await authenticate(putRequest(url), options(SIGNED_AT));

    expect(result.accessKeyId).toBe(ACCESS_KEY_ID);
  });

  it('accepts a URL at the last second before it expires', async () => {
    const url = await presignPut('users/alice/q1.csv', 'text/csv', 5, 900);

    const result = await authenticate(putRequest(url), options(new Date(SIGNED_AT.getTime() + 900 * SECOND)));

    expect(result.presigned).toBe(true);
  });

  it("refuses a URL whose key was edited into another user's prefix", async () => {
    const url = await presignPut('users/alice/q1.csv');
    const edited = url.replace('/users/alice/', '/users/bob/');

    const error = await refusal(putRequest(edited), options(SIGNED_AT));

    expect([error.status, error.code]).toEqual([403, 'SignatureDoesNotMatch']);
    expect(error.details.CanonicalRequest).toContain('/users/bob/q1.csv');
  });

  it('refuses a PUT with another content type than the signed one', async () => {
    const url = await presignPut('users/alice/q1.csv', 'text/csv');

    const error = await refusal(putRequest(url, 'text/html'), options(SIGNED_AT));

    expect([error.status, error.code]).toEqual([403, 'SignatureDoesNotMatch']);
  });

  it('refuses a PUT with a longer body than the signed length', async () => {
    const url = await presignPut('users/alice/q1.csv', 'text/csv', 5);

    const error = await refusal(putRequest(url, 'text/csv', '5000000'), options(SIGNED_AT));

    expect([error.status, error.code]).toEqual([403, 'SignatureDoesNotMatch']);
  });

  it('refuses a URL whose X-Amz-Expires was raised', async () => {
    const url = await presignPut('users/alice/q1.csv', 'text/csv', 5, 900);
    const raised = url.replace('X-Amz-Expires=900', 'X-Amz-Expires=86400');

    const error = await refusal(putRequest(raised), options(new Date(SIGNED_AT.getTime() + 3600 * SECOND)));

    expect([error.status, error.code]).toEqual([403, 'SignatureDoesNotMatch']);
  });

  it('refuses a URL whose X-Amz-Expires was raised above a week, before looking at the signature', async () => {
    const url = await presignPut('users/alice/q1.csv');
    const raised = url.replace('X-Amz-Expires=900', 'X-Amz-Expires=604801');

    const error = await refusal(putRequest(raised), options(SIGNED_AT));

    expect([error.status, error.code, error.message]).toEqual([
      400,
      'AuthorizationQueryParametersError',
      'X-Amz-Expires must be less than a week (in seconds); that is, the given X-Amz-Expires must be less than 604800 seconds',
    ]);
  });

  it('refuses an expired URL', async () => {
    const url = await presignPut('users/alice/q1.csv', 'text/csv', 5, 900);

    const error = await refusal(putRequest(url), options(new Date(SIGNED_AT.getTime() + 901 * SECOND)));

    expect([error.status, error.code, error.message]).toEqual([403, 'AccessDenied', 'Request has expired']);
    expect(error.details).toMatchObject({ 'X-Amz-Expires': '900', Expires: '2026-03-02T10:15:00Z' });
  });

  it('refuses a URL used more than 15 minutes before it was signed', async () => {
    const url = await presignGet('users/alice/q1.csv');

    const error = await refusal(requestForUrl('GET', url), options(new Date(SIGNED_AT.getTime() - 16 * MINUTE)));

    expect([error.status, error.code, error.message]).toEqual([403, 'AccessDenied', 'Request is not yet valid']);
  });

  it('refuses a URL signed with the wrong secret key', async () => {
    const forger = new S3Client({ ...clientConfig, credentials: { accessKeyId: ACCESS_KEY_ID, secretAccessKey: 'guessed' } });
    const url = await getSignedUrl(forger, new GetObjectCommand({ Bucket: BUCKET, Key: 'users/bob/q1.csv' }), {
      signingDate: SIGNED_AT,
    });
    forger.destroy();

    const error = await refusal(requestForUrl('GET', url), options(SIGNED_AT));

    expect([error.status, error.code, error.message]).toEqual([
      403,
      'SignatureDoesNotMatch',
      'The request signature we calculated does not match the signature you provided. Check your key and signing method.',
    ]);
  });

  it('refuses a URL signed with an unknown access key id', async () => {
    const stranger = new S3Client({ ...clientConfig, credentials: { accessKeyId: 'AKIASTRANGER', secretAccessKey: SECRET } });
    const url = await getSignedUrl(stranger, new GetObjectCommand({ Bucket: BUCKET, Key: 'users/bob/q1.csv' }), {
      signingDate: SIGNED_AT,
    });
    stranger.destroy();

    const error = await refusal(requestForUrl('GET', url), options(SIGNED_AT));

    expect([error.status, error.code, error.details]).toEqual([403, 'InvalidAccessKeyId', { AWSAccessKeyId: 'AKIASTRANGER' }]);
  });

  it('refuses a URL signed for another region', async () => {
    const elsewhere = new S3Client({ ...clientConfig, region: 'eu-west-1' });
    const url = await getSignedUrl(elsewhere, new GetObjectCommand({ Bucket: BUCKET, Key: 'users/alice/q1.csv' }), {
      signingDate: SIGNED_AT,
    });
    elsewhere.destroy();

    const error = await refusal(requestForUrl('GET', url), options(SIGNED_AT));

    expect([error.status, error.code, error.message, error.details]).toEqual([
      400,
      'AuthorizationQueryParametersError',
      "Error parsing the X-Amz-Credential parameter; the region 'eu-west-1' is wrong; expecting 'us-east-1'",
      { Region: 'us-east-1' },
    ]);
  });

  it('refuses a presigned URL sent with an Authorization header as well', async () => {
    const url = await presignGet('users/alice/q1.csv');
    const request = requestForUrl('GET', url, { authorization: 'Bearer api-token' });

    const error = await refusal(request, options(SIGNED_AT));

    expect([error.status, error.code, error.message]).toEqual([
      400,
      'InvalidArgument',
      'Only one auth mechanism allowed; only the X-Amz-Algorithm query parameter, Signature query string parameter or the Authorization header should be specified',
    ]);
  });

  it('refuses a presigned request carrying an x-amz-* header the URL did not sign', async () => {
    const url = await presignPut('users/alice/q1.csv');
    const request = putRequest(url);
    request.headers['x-amz-acl'] = 'public-read';

    const error = await refusal(request, options(SIGNED_AT));

    expect([error.status, error.code, error.message, error.details]).toEqual([
      403,
      'AccessDenied',
      'There were headers present in the request which were not signed',
      { HeadersNotSigned: 'x-amz-acl' },
    ]);
  });

  it('refuses a URL missing one of the signing parameters', async () => {
    const url = await presignGet('users/alice/q1.csv');
    const cut = url.replace(/&X-Amz-Date=[^&]*/, '');

    const error = await refusal(requestForUrl('GET', cut), options(SIGNED_AT));

    expect([error.status, error.code]).toEqual([400, 'AuthorizationQueryParametersError']);
  });
});

describe('header-signed requests from the SDK', () => {
  let server: RecordingServer;
  const clients: S3Client[] = [];
  beforeAll(async () => {
    server = await startRecordingServer();
  });
  afterAll(async () => {
    clients.forEach((c) => c.destroy());
    await server.close();
  });

  /** Sends a command through a real client to the recording server and returns what arrived. */
  async function sent(
    command: PutObjectCommand | GetObjectCommand,
    config: Partial<S3ClientConfig> = {},
  ): Promise<RecordedRequest> {
    const client = new S3Client({ ...clientConfig, endpoint: server.endpoint, ...config });
    clients.push(client);
    const before = server.requests.length;
    await client.send(command as PutObjectCommand);
    expect(server.requests).toHaveLength(before + 1);
    return server.requests[before]!;
  }
  const put = (key: string, body: string | Readable = 'hello', extra: Partial<PutObjectCommand['input']> = {}) =>
    new PutObjectCommand({ Bucket: BUCKET, Key: key, Body: body, ContentType: 'text/csv', ...extra });

  it('accepts a PutObject and asks for the body to hash to the signed SHA-256', async () => {
    const request = await sent(put('users/alice/q1.csv', 'hello'));

    const result = await authenticate(request, options(signedAt(request)));

    expect(result).toEqual({ accessKeyId: ACCESS_KEY_ID, presigned: false, payload: { kind: 'sha256', hex: sha256('hello') } });
  });

  it('accepts a GetObject, whose empty payload is signed', async () => {
    const request = await sent(new GetObjectCommand({ Bucket: BUCKET, Key: 'users/alice/q1.csv' }));

    const result = await authenticate(request, options(signedAt(request)));

    expect(result.payload).toEqual({ kind: 'sha256', hex: sha256('') });
  });

  it('accepts a stream of known length sent as UNSIGNED-PAYLOAD', async () => {
    const request = await sent(put('users/alice/s.bin', Readable.from([Buffer.from('streamed')]), { ContentLength: 8 }));
    expect(request.headers['x-amz-content-sha256']).toBe('UNSIGNED-PAYLOAD');

    const result = await authenticate(request, options(signedAt(request)));

    expect(result.payload).toEqual({ kind: 'unsigned' });
  });

  it('accepts a stream sent aws-chunked with a trailing checksum by a default client', async () => {
    const body = Readable.from([Buffer.alloc(9000, 'a')]);
    const request = await sent(put('users/alice/s.bin', body, { ContentLength: 9000 }), { requestChecksumCalculation: 'WHEN_SUPPORTED' });
    expect(request.headers['x-amz-content-sha256']).toBe('STREAMING-UNSIGNED-PAYLOAD-TRAILER');

    const result = await authenticate(request, options(signedAt(request)));

    expect(result.payload).toEqual({ kind: 'aws-chunked', trailer: true, signing: undefined });
  });

  it.each([
    ['a space', 'users/alice/q1 final.csv'],
    ['a plus', 'users/alice/a+b.csv'],
    ['unicode', 'users/alice/ü/中文 é.csv'],
    ['a tilde', 'users/alice/~backup.csv'],
    ['an equals sign', 'users/alice/a=b&c.csv'],
  ])('accepts a PutObject for a key with %s', async (_name, key) => {
    const request = await sent(put(key));

    const result = await authenticate(request, options(signedAt(request)));

    expect(result.accessKeyId).toBe(ACCESS_KEY_ID);
  });

  it('accepts a request 15 minutes off the server clock', async () => {
    const request = await sent(put('users/alice/q1.csv'));

    const result = await authenticate(request, options(new Date(signedAt(request).getTime() + 15 * MINUTE)));

    expect(result.presigned).toBe(false);
  });

  it('refuses a request whose path was edited after signing', async () => {
    const request = await sent(put('users/alice/q1.csv'));
    request.path = request.path.replace('/users/alice/', '/users/bob/');

    const error = await refusal(request, options(signedAt(request)));

    expect([error.status, error.code]).toEqual([403, 'SignatureDoesNotMatch']);
  });

  it('refuses a request signed with the wrong secret key', async () => {
    const request = await sent(put('users/alice/q1.csv'), { credentials: { accessKeyId: ACCESS_KEY_ID, secretAccessKey: 'guessed' } });

    const error = await refusal(request, options(signedAt(request)));

    expect([error.status, error.code]).toEqual([403, 'SignatureDoesNotMatch']);
    expect(error.details.StringToSign).toMatch(/^AWS4-HMAC-SHA256\n\d{8}T\d{6}Z\n\d{8}\/us-east-1\/s3\/aws4_request\n[0-9a-f]{64}$/);
  });

  it('refuses a request signed with an unknown access key id', async () => {
    const request = await sent(put('users/alice/q1.csv'), { credentials: { accessKeyId: 'AKIASTRANGER', secretAccessKey: SECRET } });

    const error = await refusal(request, options(signedAt(request)));

    expect([error.status, error.code, error.message]).toEqual([
      403,
      'InvalidAccessKeyId',
      'The AWS Access Key Id you provided does not exist in our records.',
    ]);
  });

  it('refuses a request carrying an x-amz-* header that was not signed', async () => {
    const request = await sent(put('users/alice/q1.csv'));
    request.headers['x-amz-meta-owner'] = 'bob';

    const error = await refusal(request, options(signedAt(request)));

    expect([error.status, error.code, error.details]).toEqual([403, 'AccessDenied', { HeadersNotSigned: 'x-amz-meta-owner' }]);
  });

  it('refuses a request more than 15 minutes off the server clock', async () => {
    const request = await sent(put('users/alice/q1.csv'));

    const error = await refusal(request, options(new Date(signedAt(request).getTime() + 15 * MINUTE + SECOND)));

    expect([error.status, error.code, error.message]).toEqual([
      403,
      'RequestTimeTooSkewed',
      'The difference between the request time and the current time is too large.',
    ]);
    expect(error.details).toMatchObject({ RequestTime: request.headers['x-amz-date'], MaxAllowedSkewMilliseconds: '900000' });
  });

  it('refuses a request signed for another region, naming the expected one', async () => {
    const request = await sent(put('users/alice/q1.csv'), { region: 'eu-west-1' });

    const error = await refusal(request, options(signedAt(request)));

    expect([error.status, error.code, error.message, error.details]).toEqual([
      400,
      'AuthorizationHeaderMalformed',
      "The authorization header is malformed; the region 'eu-west-1' is wrong; expecting 'us-east-1'",
      { Region: 'us-east-1' },
    ]);
  });

  it('refuses a request without x-amz-content-sha256', async () => {
    const request = await sent(put('users/alice/q1.csv'));
    delete request.headers['x-amz-content-sha256'];

    const error = await refusal(request, options(signedAt(request)));

    expect([error.status, error.code, error.message]).toEqual([
      400,
      'InvalidRequest',
      'Missing required header for this request: x-amz-content-sha256',
    ]);
  });

  it('refuses an Authorization header that lacks its Signature', async () => {
    const request = await sent(put('users/alice/q1.csv'));
    request.headers.authorization = String(request.headers.authorization).replace(/, Signature=.*$/, '');

    const error = await refusal(request, options(signedAt(request)));

    expect([error.status, error.code, error.message]).toEqual([
      400,
      'AuthorizationHeaderMalformed',
      'The authorization header is malformed; the authorization header requires three components: Credential, SignedHeaders, and Signature.',
    ]);
  });
});

describe('a request dated by its Date header alone', () => {
  /** SigV4 written out from the specification, independently of the library under test. */
  const hmac = (key: Buffer | string, data: string) => createHmac('sha256', key).update(data).digest();

  it('is accepted, its time taken from Date as S3 allows when x-amz-date is absent', async () => {
    const headers = { host: '127.0.0.1:4569', date: 'Mon, 02 Mar 2026 10:00:00 GMT', 'x-amz-content-sha256': sha256('') };
    const canonical = ['GET', `/${BUCKET}/users/alice/q1.csv`, '', ...Object.entries(headers).sort().map(([n, v]) => `${n}:${v}`), '', 'date;host;x-amz-content-sha256', sha256('')].join('\n');
    const scope = '20260302/us-east-1/s3/aws4_request';
    const stringToSign = ['AWS4-HMAC-SHA256', '20260302T100000Z', scope, sha256(canonical)].join('\n');
    const key = ['20260302', 'us-east-1', 's3', 'aws4_request'].reduce<Buffer | string>((k, part) => hmac(k, part), `AWS4${SECRET}`);
    const signature = createHmac('sha256', key).update(stringToSign).digest('hex');
    const request = {
      method: 'GET',
      path: `/${BUCKET}/users/alice/q1.csv`,
      query: '',
      headers: { ...headers, authorization: `AWS4-HMAC-SHA256 Credential=${ACCESS_KEY_ID}/${scope}, SignedHeaders=date;host;x-amz-content-sha256, Signature=${signature}` },
    };

    const result = await authenticate(request, options(SIGNED_AT));

    expect(result.accessKeyId).toBe(ACCESS_KEY_ID);
  });

  it('is refused when it has neither Date nor x-amz-date', async () => {
    const request = {
      method: 'GET',
      path: `/${BUCKET}/users/alice/q1.csv`,
      query: '',
      headers: {
        host: '127.0.0.1:4569',
        'x-amz-content-sha256': sha256(''),
        authorization: `AWS4-HMAC-SHA256 Credential=${ACCESS_KEY_ID}/20260302/us-east-1/s3/aws4_request, SignedHeaders=host;x-amz-content-sha256, Signature=${'0'.repeat(64)}`,
      },
    };

    const error = await refusal(request, options(SIGNED_AT));

    expect([error.status, error.code, error.message]).toEqual([
      403,
      'AccessDenied',
      'AWS authentication requires a valid Date or x-amz-date header',
    ]);
  });
});

describe('requests without a SigV4 signature', () => {
  const UNSUPPORTED = 'The authorization mechanism you have provided is not supported. Please use AWS4-HMAC-SHA256.';

  it('refuses a Signature Version 2 Authorization header', async () => {
    const request = {
      method: 'GET',
      path: `/${BUCKET}/users/alice/q1.csv`,
      query: '',
      headers: { host: '127.0.0.1:4569', date: SIGNED_AT.toUTCString(), authorization: `AWS ${ACCESS_KEY_ID}:frJIUN8DYpKDtOLCwo//yllqDzg=` },
    };

    const error = await refusal(request, options(SIGNED_AT));

    expect([error.status, error.code, error.message]).toEqual([400, 'InvalidRequest', UNSUPPORTED]);
  });

  it('refuses a Signature Version 2 presigned URL', async () => {
    const url = `http://127.0.0.1:4569/${BUCKET}/users/alice/q1.csv?AWSAccessKeyId=${ACCESS_KEY_ID}&Signature=XrzzhHN1IxLDYewCtHS8AcRCnys%3D&Expires=1796156726`;

    const error = await refusal(requestForUrl('GET', url), options(SIGNED_AT));

    expect([error.status, error.code, error.message]).toEqual([400, 'InvalidRequest', UNSUPPORTED]);
  });

  it('refuses an anonymous request', async () => {
    const request = { method: 'GET', path: `/${BUCKET}/users/alice/q1.csv`, query: '', headers: { host: '127.0.0.1:4569' } };

    const error = await refusal(request, options(SIGNED_AT));

    expect([error.status, error.code, error.message]).toEqual([403, 'AccessDenied', 'Access Denied']);
  });

  it('refuses a bearer token, which S3 does not know', async () => {
    const request = {
      method: 'GET',
      path: `/${BUCKET}/users/alice/q1.csv`,
      query: '',
      headers: { host: '127.0.0.1:4569', authorization: 'Bearer api-token' },
    };

    const error = await refusal(request, options(SIGNED_AT));

    expect([error.status, error.code, error.message]).toEqual([400, 'InvalidArgument', 'Unsupported Authorization Type']);
  });
});

/**
 * The worked examples of the S3 documentation ("Signature Calculations for the Authorization
 * Header" and "Authenticating Requests: Using Query Parameters"): signatures computed by AWS, not
 * by the library under test.
 */
describe('the examples of the AWS documentation', () => {
  const DOC_KEY = 'AKIAIOSFODNN7EXAMPLE';
  const docOptions = options(new Date('2013-05-24T00:00:00Z'), {
    secretFor: (id) => (id === DOC_KEY ? 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY' : undefined),
  });

  it('accepts the header-signed GET Object example', async () => {
    const request = {
      method: 'GET',
      path: '/test.txt',
      query: '',
      headers: {
        host: 'examplebucket.s3.amazonaws.com',
        range: 'bytes=0-9',
        'x-amz-content-sha256': sha256(''),
        'x-amz-date': '20130524T000000Z',
        authorization: `AWS4-HMAC-SHA256 Credential=${DOC_KEY}/20130524/us-east-1/s3/aws4_request,SignedHeaders=host;range;x-amz-content-sha256;x-amz-date,Signature=f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41`,
      },
    };

    const result = await authenticate(request, docOptions);

    expect(result).toEqual({ accessKeyId: DOC_KEY, presigned: false, payload: { kind: 'sha256', hex: sha256('') } });
  });

  it.each([
    [
      'PUT Object, which signs the Date header too',
      'PUT',
      '/test%24file.text',
      '',
      {
        date: 'Fri, 24 May 2013 00:00:00 GMT',
        'x-amz-storage-class': 'REDUCED_REDUNDANCY',
        'x-amz-content-sha256': '44ce7dd67c959e0d3524ffac1771dfbba87d2b6b4b4e99e42034a8b803f8b072',
      },
      'date;host;x-amz-content-sha256;x-amz-date;x-amz-storage-class',
      '98ad721746da40c64f1a55b78f14c238d841ea1380cd77a1b5971af0ece108bd',
    ],
    ['GET Bucket Lifecycle, a parameter without a value', 'GET', '/', 'lifecycle', {}, 'host;x-amz-content-sha256;x-amz-date', 'fea454ca298b7da1c68078a5d1bdbfbbe0d65c699e0f91ac7a200a0136783543'],
    ['GET Bucket, parameters out of order', 'GET', '/', 'max-keys=2&prefix=J', {}, 'host;x-amz-content-sha256;x-amz-date', '34b48302e7b5fa45bde8084f4b7868a86f0a534bc59db6670ed5711ef69dc6f7'],
  ])('accepts the example %s', async (_name, method, path, query, headers, signedHeaders, signature) => {
    const request = {
      method,
      path,
      query,
      headers: {
        host: 'examplebucket.s3.amazonaws.com',
        'x-amz-date': '20130524T000000Z',
        'x-amz-content-sha256': sha256(''),
        ...headers,
        authorization: `AWS4-HMAC-SHA256 Credential=${DOC_KEY}/20130524/us-east-1/s3/aws4_request,SignedHeaders=${signedHeaders},Signature=${signature}`,
      },
    };

    const result = await authenticate(request, docOptions);

    expect(result.accessKeyId).toBe(DOC_KEY);
  });

  it('accepts the presigned GET Object example', async () => {
    const url = `https://examplebucket.s3.amazonaws.com/test.txt?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=${DOC_KEY}%2F20130524%2Fus-east-1%2Fs3%2Faws4_request&X-Amz-Date=20130524T000000Z&X-Amz-Expires=86400&X-Amz-SignedHeaders=host&X-Amz-Signature=aeeed9bbccd4d02ee5c0109b86d86835f995330da4c265957d157751f604d404`;

    const result = await authenticate(requestForUrl('GET', url), docOptions);

    expect(result).toEqual({ accessKeyId: DOC_KEY, presigned: true, payload: { kind: 'unsigned' } });
  });
});

/**
 * Requests the AWS CLI (botocore, a second SigV4 implementation) sent to a recording server;
 * `fixtures/record-aws-cli.ts` records them again.
 */
describe('requests recorded from the aws CLI', () => {
  const cliOptions = (request: IncomingS3Request, now = signedAt(request)) =>
    options(now, { secretFor: (id) => (id === cli.accessKeyId ? cli.secretAccessKey : undefined) });

  it('accepts a put-object whose payload SHA-256 is signed, and its body then passes the hash check', async () => {
    const body = Buffer.from(cli.putObject.body, 'base64');

    const result = await authenticate(cli.putObject, cliOptions(cli.putObject));
    const verifier = payloadVerifier(result, cli.putObject.headers)!;
    await pipeline(Readable.from([body]), verifier, new Writable({ write: (_chunk, _encoding, callback) => callback() }));

    expect(result).toEqual({ accessKeyId: cli.accessKeyId, presigned: false, payload: { kind: 'sha256', hex: sha256(body.toString()) } });
  });

  it('accepts a get-object', async () => {
    const result = await authenticate(cli.getObject, cliOptions(cli.getObject));

    expect(result.presigned).toBe(false);
  });

  it('accepts a SigV4 presigned URL, which names no payload hash', async () => {
    const date = /X-Amz-Date=(\d{8}T\d{6}Z)/.exec(cli.presignedV4.query)![1]!;
    const now = signedAt({ ...cli.presignedV4, headers: { 'x-amz-date': date } });

    const result = await authenticate(cli.presignedV4, cliOptions(cli.presignedV4, now));

    expect(result).toEqual({ accessKeyId: cli.accessKeyId, presigned: true, payload: { kind: 'unsigned' } });
  });

  it('refuses the SigV2 presigned URL that aws s3 presign makes by default', async () => {
    const error = await refusal(cli.presignedV2, cliOptions(cli.presignedV2, SIGNED_AT));

    expect([error.status, error.code]).toEqual([400, 'InvalidRequest']);
  });

  it('refuses a put-object whose body was replaced after signing', async () => {
    const result = await authenticate(cli.putObject, cliOptions(cli.putObject));
    const verifier = payloadVerifier(result, cli.putObject.headers)!;

    const outcome = pipeline(Readable.from([Buffer.from('id,city\n1,Rome\n')]), verifier, new Writable({ write: (_c, _e, callback) => callback() }));

    await expect(outcome).rejects.toMatchObject({ status: 400, code: 'XAmzContentSHA256Mismatch' });
  });
});
