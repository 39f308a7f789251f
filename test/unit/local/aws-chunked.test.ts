import { createHash, randomBytes } from 'node:crypto';
import { Readable, Writable, type Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { crc32 } from 'node:zlib';
import { PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { AwsChunkedDecoder, createSha256Verifier, payloadVerifier, type Trailers } from '../../../local/s3/aws-chunked';
import { authenticate, S3AuthError, type AuthOptions, type IncomingS3Request } from '../../../local/s3/sigv4';
import { startRecordingServer, type RecordedRequest, type RecordingServer } from './support/recording-server';

const ACCESS_KEY_ID = 'AKIALOCALTEST';
const SECRET = 'local-test-secret';

/** Pipes the pieces through the transform, as a socket would deliver them, and collects the output. */
async function run(transform: Transform, pieces: Buffer[]): Promise<{ output: Buffer; trailers: Trailers | undefined }> {
  const out: Buffer[] = [];
  let trailers: Trailers | undefined;
  transform.on('trailers', (t: Trailers) => (trailers = t));
  const sink = new Writable({
    write(chunk: Buffer, _encoding, callback) {
      out.push(chunk);
      callback();
    },
  });
  await pipeline(Readable.from(pieces), transform, sink);
  return { output: Buffer.concat(out), trailers };
}

async function failure(transform: Transform, pieces: Buffer[]): Promise<S3AuthError> {
  const error = await run(transform, pieces).then(
    () => undefined,
    (err: unknown) => err,
  );
  if (!(error instanceof S3AuthError)) throw new Error(`expected an S3AuthError, got ${String(error)}`);
  return error;
}

const bytewise = (body: Buffer) => Array.from(body, (byte) => Buffer.from([byte]));
const sha256 = (data: Buffer) => createHash('sha256').update(data).digest('hex');
const crc32Base64 = (data: Buffer) => {
  const out = Buffer.alloc(4);
  out.writeUInt32BE(crc32(data));
  return out.toString('base64');
};
/** Replaces the first occurrence of `text` in the body with `replacement` of the same length. */
function edit(body: Buffer, text: string, replacement: string): Buffer {
  const at = body.indexOf(text);
  if (at < 0 || text.length !== replacement.length) throw new Error(`cannot edit "${text}"`);
  const copy = Buffer.from(body);
  copy.write(replacement, at, 'latin1');
  return copy;
}

describe('aws-chunked bodies sent by the SDK', () => {
  let server: RecordingServer;
  let client: S3Client;
  const now = (request: IncomingS3Request) =>
    new Date(String(request.headers['x-amz-date']).replace(/^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/, '$1-$2-$3T$4:$5:$6Z'));
  const options = (request: IncomingS3Request): AuthOptions => ({
    region: 'us-east-1',
    secretFor: (id) => (id === ACCESS_KEY_ID ? SECRET : undefined),
    now: () => now(request),
  });

  beforeAll(async () => {
    server = await startRecordingServer();
    // The SDK's default checksum mode sends a stream as STREAMING-UNSIGNED-PAYLOAD-TRAILER.
    client = new S3Client({
      endpoint: server.endpoint,
      forcePathStyle: true,
      region: 'us-east-1',
      credentials: { accessKeyId: ACCESS_KEY_ID, secretAccessKey: SECRET },
      requestChecksumCalculation: 'WHEN_SUPPORTED',
    });
  });
  afterAll(async () => {
    client.destroy();
    await server.close();
  });

  async function streamed(pieces: Buffer[], length = pieces.reduce((sum, piece) => sum + piece.length, 0)): Promise<RecordedRequest> {
    const before = server.requests.length;
    const command = new PutObjectCommand({ Bucket: 's3fs-uploads', Key: 'users/alice/stream.bin', Body: Readable.from(pieces), ContentLength: length });
    await client.send(command);
    const request = server.requests[before]!;
    expect(request.headers['content-encoding']).toBe('aws-chunked');
    return request;
  }
  async function verifierFor(request: RecordedRequest): Promise<Transform> {
    const verifier = payloadVerifier(await authenticate(request, options(request)), request.headers);
    if (!verifier) throw new Error('expected a payload verifier');
    return verifier;
  }

  it('decodes a streamed upload byte-exact and hands over its checksum trailer', async () => {
    const data = [randomBytes(9000), randomBytes(70_000), randomBytes(13)];
    const request = await streamed(data);

    const { output, trailers } = await run(await verifierFor(request), [request.body]);

    expect(output.equals(Buffer.concat(data))).toBe(true);
    expect(trailers).toEqual({ 'x-amz-checksum-crc32': crc32Base64(Buffer.concat(data)) });
  });

  it('decodes a 0-byte streamed upload', async () => {
    const request = await streamed([]);

    const { output, trailers } = await run(await verifierFor(request), [request.body]);

    expect([output.length, trailers]).toEqual([0, { 'x-amz-checksum-crc32': 'AAAAAA==' }]);
  });

  it('decodes a streamed upload that arrives one byte at a time', async () => {
    const data = [randomBytes(8192), randomBytes(100)];
    const request = await streamed(data);

    const { output } = await run(await verifierFor(request), bytewise(request.body));

    expect(output.equals(Buffer.concat(data))).toBe(true);
  });

  it('refuses a chunk below 8192 bytes that is not the last one, as S3 does', async () => {
    const request = await streamed([randomBytes(100), randomBytes(100)]);

    const error = await failure(await verifierFor(request), [request.body]);

    expect([error.status, error.code, error.details]).toEqual([
      403,
      'InvalidChunkSizeError',
      { Chunk: '1', BadChunkSize: '100' },
    ]);
  });

  it('refuses a body that is longer than the ContentLength the client declared', async () => {
    const request = await streamed([randomBytes(9000)], 8999);
    expect(request.headers['x-amz-decoded-content-length']).toBe('8999');

    const error = await failure(await verifierFor(request), [request.body]);

    expect([error.status, error.code, error.message]).toEqual([400, 'IncompleteBody', 'The request body terminated unexpectedly']);
  });

  it('refuses a body that is shorter than the ContentLength the client declared', async () => {
    const request = await streamed([randomBytes(9000)], 9001);

    const error = await failure(await verifierFor(request), [request.body]);

    expect([error.status, error.code]).toEqual([400, 'IncompleteBody']);
  });

  it('refuses a body that ends before its last chunk', async () => {
    const request = await streamed([randomBytes(9000)]);
    const cut = request.body.subarray(0, request.body.indexOf('\r\n0\r\n') + 2);

    const error = await failure(await verifierFor(request), [cut]);

    expect([error.status, error.code]).toEqual([400, 'IncompleteBody']);
  });

  it('refuses a chunk whose size is not hexadecimal', async () => {
    const request = await streamed([randomBytes(9000)]);
    const garbled = edit(request.body, '2328\r\n', 'zz28\r\n');

    const error = await failure(await verifierFor(request), [garbled]);

    expect([error.status, error.code]).toEqual([400, 'IncompleteBody']);
  });

  it('refuses a body whose announced trailer is missing', async () => {
    const request = await streamed([randomBytes(9000)]);
    const end = request.body.indexOf('\r\n0\r\n') + 5;
    const withoutTrailer = Buffer.concat([request.body.subarray(0, end), Buffer.from('\r\n')]);

    const error = await failure(await verifierFor(request), [withoutTrailer]);

    expect([error.status, error.code]).toEqual([400, 'MalformedTrailerError']);
  });

  it('refuses bytes after the end of the body', async () => {
    const request = await streamed([randomBytes(9000)]);

    const error = await failure(await verifierFor(request), [request.body, Buffer.from('more')]);

    expect([error.status, error.code]).toEqual([400, 'IncompleteBody']);
  });
});

/**
 * The signed-chunk examples of the S3 documentation ("Signature Calculations for the Authorization
 * Header: Transferring Payload in Multiple Chunks", with and without a trailing checksum): a
 * 66,560-byte object of 'a' in chunks of 65,536, 1,024 and 0 bytes, every signature computed by AWS.
 */
describe('signed aws-chunked bodies of the AWS documentation', () => {
  const KEY = 'AKIAIOSFODNN7EXAMPLE';
  const options: AuthOptions = {
    region: 'us-east-1',
    secretFor: (id) => (id === KEY ? 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY' : undefined),
    now: () => new Date('2013-05-24T00:00:00Z'),
  };
  const DATA = Buffer.alloc(66_560, 'a');
  const common = {
    host: 's3.amazonaws.com',
    'x-amz-storage-class': 'REDUCED_REDUNDANCY',
    'content-encoding': 'aws-chunked',
    'x-amz-decoded-content-length': '66560',
    'x-amz-date': '20130524T000000Z',
  };
  const authorization = (signedHeaders: string, signature: string) =>
    `AWS4-HMAC-SHA256 Credential=${KEY}/20130524/us-east-1/s3/aws4_request,SignedHeaders=${signedHeaders},Signature=${signature}`;
  const body = (signatures: string[], trailers: string[] = []) =>
    Buffer.from(
      [
        `10000;chunk-signature=${signatures[0]}\r\n${DATA.subarray(0, 65_536).toString()}`,
        `400;chunk-signature=${signatures[1]}\r\n${DATA.subarray(0, 1024).toString()}`,
        `0;chunk-signature=${signatures[2]}`,
        ...trailers,
        '',
        '',
      ].join('\r\n'),
    );

  const chunked: RecordedRequest = {
    method: 'PUT',
    path: '/examplebucket/chunkObject.txt',
    query: '',
    headers: {
      ...common,
      'content-length': '66824',
      'x-amz-content-sha256': 'STREAMING-AWS4-HMAC-SHA256-PAYLOAD',
      authorization: authorization(
        'content-encoding;content-length;host;x-amz-content-sha256;x-amz-date;x-amz-decoded-content-length;x-amz-storage-class',
        '4f232c4386841ef735655705268965c44a0e4690baa4adea153f7db9fa80a0a9',
      ),
    },
    body: body([
      'ad80c730a21e5b8d04586a2213dd63b9a0e99e0e2307b0ade35a65485a288648',
      '0055627c9e194cb4542bae2aa5492e3c1575bbb81b612b7d234b86a503ef5497',
      'b6c6ea8a5354eaf15b3cb7646744f4275b71ea724fed81ceb9323e279d449df9',
    ]),
  };
  const withTrailer: RecordedRequest = {
    method: 'PUT',
    path: '/examplebucket/chunkObject.txt',
    query: '',
    headers: {
      ...common,
      'x-amz-content-sha256': 'STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER',
      'x-amz-trailer': 'x-amz-checksum-crc32c',
      authorization: authorization(
        'content-encoding;host;x-amz-content-sha256;x-amz-date;x-amz-decoded-content-length;x-amz-storage-class;x-amz-trailer',
        '106e2a8a18243abcf37539882f36619c00e2dfc72633413f02d3b74544bfeb8e',
      ),
    },
    body: body(
      [
        'b474d8862b1487a5145d686f57f013e54db672cee1c953b3010fb58501ef5aa2',
        '1c1344b170168f8e65b41376b44b20fe354e373826ccbbe2c1d40a8cae51e5c7',
        '2ca2aba2005185cf7159c6277faf83795951dd77a3a99e6e65d5c9f85863f992',
      ],
      ['x-amz-checksum-crc32c:sOO8/Q==', 'x-amz-trailer-signature:d81f82fc3505edab99d459891051a732e8730629a2e4a59689829ca17fe2e435'],
    ),
  };
  async function verifierFor(request: RecordedRequest): Promise<Transform> {
    const verifier = payloadVerifier(await authenticate(request, options), request.headers);
    if (!verifier) throw new Error('expected a payload verifier');
    return verifier;
  }

  it('asks for signed chunks seeded with the request signature', async () => {
    const auth = await authenticate(chunked, options);

    expect(auth.payload).toMatchObject({
      kind: 'aws-chunked',
      trailer: false,
      signing: {
        seedSignature: '4f232c4386841ef735655705268965c44a0e4690baa4adea153f7db9fa80a0a9',
        amzDate: '20130524T000000Z',
        scope: '20130524/us-east-1/s3/aws4_request',
      },
    });
  });

  it('decodes the signed-chunk example byte-exact', async () => {
    expect(chunked.body).toHaveLength(66_824);

    const { output } = await run(await verifierFor(chunked), [chunked.body]);

    expect(sha256(output)).toBe(sha256(DATA));
  });

  it('decodes the signed-trailer example fed one byte at a time and hands over its checksum', async () => {
    const { output, trailers } = await run(await verifierFor(withTrailer), bytewise(withTrailer.body));

    expect([sha256(output), trailers]).toEqual([sha256(DATA), { 'x-amz-checksum-crc32c': 'sOO8/Q==' }]);
  });

  it('refuses a chunk whose data was tampered with', async () => {
    const tampered = Buffer.from(chunked.body);
    tampered[66_000] = 'b'.charCodeAt(0); // inside the second chunk's data

    const error = await failure(await verifierFor(chunked), [tampered]);

    expect([error.status, error.code]).toEqual([403, 'SignatureDoesNotMatch']);
    expect(error.details.StringToSign).toMatch(/^AWS4-HMAC-SHA256-PAYLOAD\n/);
  });

  it('refuses a chunk whose signature was replaced', async () => {
    const tampered = edit(chunked.body, '0055627c9e', '0055627c9f');

    const error = await failure(await verifierFor(chunked), [tampered]);

    expect([error.status, error.code]).toEqual([403, 'SignatureDoesNotMatch']);
  });

  it('refuses a trailer whose checksum was tampered with', async () => {
    const tampered = edit(withTrailer.body, 'sOO8/Q==', 'AAAAAA==');

    const error = await failure(await verifierFor(withTrailer), [tampered]);

    expect([error.status, error.code]).toEqual([403, 'SignatureDoesNotMatch']);
    expect(error.details.StringToSign).toMatch(/^AWS4-HMAC-SHA256-TRAILER\n/);
  });

  it('refuses a signed chunk that carries no signature', async () => {
    const unsigned = Buffer.concat([Buffer.from(`10000\r\n`), chunked.body.subarray(chunked.body.indexOf('\r\n') + 2)]);

    const error = await failure(await verifierFor(chunked), [unsigned]);

    expect([error.status, error.code]).toEqual([400, 'IncompleteBody']);
  });

  it('is what payloadVerifier picks for a signed streaming payload', async () => {
    const verifier = await verifierFor(chunked);

    expect(verifier).toBeInstanceOf(AwsChunkedDecoder);
  });
});

describe('createSha256Verifier', () => {
  const body = Buffer.from('id,city\n1,Oslo\n');

  it('passes a body that hashes to the signed SHA-256 through unchanged', async () => {
    const { output } = await run(createSha256Verifier(sha256(body)), bytewise(body));

    expect(output.equals(body)).toBe(true);
  });

  it('refuses a body that does not hash to the signed SHA-256', async () => {
    const error = await failure(createSha256Verifier(sha256(body)), [Buffer.from('id,city\n1,Rome\n')]);

    expect([error.status, error.code, error.message]).toEqual([
      400,
      'XAmzContentSHA256Mismatch',
      "The provided 'x-amz-content-sha256' header does not match what was computed.",
    ]);
  });
});

describe('payloadVerifier', () => {
  it('checks nothing for an unsigned payload', () => {
    const verifier = payloadVerifier({ accessKeyId: ACCESS_KEY_ID, presigned: true, payload: { kind: 'unsigned' } }, {});

    expect(verifier).toBeUndefined();
  });

  it('hashes the body for a signed SHA-256 payload', async () => {
    const body = Buffer.from('hello');
    const verifier = payloadVerifier({ accessKeyId: ACCESS_KEY_ID, presigned: false, payload: { kind: 'sha256', hex: sha256(Buffer.from('other')) } }, {})!;

    const error = await failure(verifier, [body]);

    expect(error.code).toBe('XAmzContentSHA256Mismatch');
  });
});
