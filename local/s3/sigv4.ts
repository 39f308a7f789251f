/**
 * AWS Signature Version 4 authentication for the local S3 server, which calls `authenticate` for
 * every request before it touches a bucket, so that local mode refuses what S3 refuses: tampered
 * presigned URLs, expired ones, wrong or unknown keys, anonymous requests. Status codes, error
 * codes and messages are S3's, so clients and tests see the same failures as against AWS.
 *
 * The expected signature is computed by `@smithy/signature-v4`, the signer every JS SDK client
 * uses: its canonical request, string to sign and signing key, over exactly what the client
 * said it signed. Nothing here hashes or orders a canonical request by hand.
 *
 * Framework-free: it takes the method, raw path, raw query and headers as node:http gives them.
 * The payload is checked while it streams, by `payloadVerifier` in `./aws-chunked`.
 *
 * `authenticateWithBody` is the same check for the other services local mode serves (the local SQS
 * queue): header-signed only, scoped to that service, over a body already read in full, whose
 * SHA-256 is the payload hash. Refusals are S3AuthErrors there too (S3's words); such a server
 * translates their `code` into its own service's errors.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import {
  ALGORITHM_IDENTIFIER,
  ALGORITHM_IDENTIFIER_V4A,
  KEY_TYPE_IDENTIFIER,
  MAX_PRESIGNED_TTL,
  SignatureV4,
  UNSIGNED_PAYLOAD,
  createScope,
  getCanonicalHeaders,
} from '@smithy/signature-v4';
import type { HttpRequest, QueryParameterBag } from '@smithy/types';
import { Sha256 } from '../../lambda/shared/sha256';

export interface IncomingS3Request {
  method: string;
  /** Raw request path as sent, still percent-encoded: `/bucket/a%20b.csv` (path-style only). */
  path: string;
  /** Raw query string as sent, without '?'. */
  query: string;
  /** Lower-case header names, as node:http gives them. */
  headers: Record<string, string | string[] | undefined>;
}

export interface AuthOptions {
  /** The region the server answers for; a credential scoped to another one is refused. */
  region: string;
  /** The secret of an access key id, or undefined when the key is unknown. */
  secretFor(accessKeyId: string): string | undefined;
  /** The server's clock; tests pin it. */
  now?: () => Date;
}

/** What the chunk decoder needs to check `chunk-signature`s, which chain from the request's own. */
export interface ChunkSigning {
  /** The request's signature: the first chunk's string to sign names it as the previous one. */
  seedSignature: string;
  /** The request time as the client wrote it (ISO 8601 basic), part of every chunk's string to sign. */
  amzDate: string;
  /** `<yyyymmdd>/<region>/s3/aws4_request`. */
  scope: string;
  /** The request time, for the library's signing key of that day. */
  signingDate: Date;
  /** The library's signer, holding this request's key and region. */
  signer: SignatureV4;
}

export type PayloadCheck =
  /** UNSIGNED-PAYLOAD, or a presigned URL without X-Amz-Content-Sha256. */
  | { kind: 'unsigned' }
  /** The body must hash to this (lower-case hex). */
  | { kind: 'sha256'; hex: string }
  /**
   * A `Content-Encoding: aws-chunked` body (the STREAMING-* forms): `trailer` when trailing headers
   * follow the last chunk; `signing` for the signed forms, undefined for STREAMING-UNSIGNED-PAYLOAD-TRAILER.
   */
  | { kind: 'aws-chunked'; trailer: boolean; signing: ChunkSigning | undefined };

export interface Authenticated {
  accessKeyId: string;
  presigned: boolean;
  payload: PayloadCheck;
}

/**
 * A refusal as S3 words it: `status`, `code` and `message` of its XML error document, and the
 * extra elements S3 adds (`Region`, `HeadersNotSigned`, `StringToSign`, …) in `details`.
 */
export class S3AuthError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly details: Readonly<Record<string, string>> = {},
  ) {
    super(message);
    this.name = 'S3AuthError';
  }
}

const SERVICE = 's3';
/** S3 takes header-signed requests up to 15 minutes off its own clock, either way. */
const MAX_SKEW_MS = 15 * 60 * 1000;
const STREAMING_SIGNED = 'STREAMING-AWS4-HMAC-SHA256-PAYLOAD';
const STREAMING_SIGNED_TRAILER = 'STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER';
const STREAMING_UNSIGNED_TRAILER = 'STREAMING-UNSIGNED-PAYLOAD-TRAILER';
/** The query parameters that make a request a SigV4 presigned one. */
const PRESIGN_PARAMS = [
  'X-Amz-Algorithm',
  'X-Amz-Credential',
  'X-Amz-Signature',
  'X-Amz-Date',
  'X-Amz-SignedHeaders',
  'X-Amz-Expires',
] as const;

const UNSUPPORTED = 'The authorization mechanism you have provided is not supported. Please use AWS4-HMAC-SHA256.';
const ONE_MECHANISM =
  'Only one auth mechanism allowed; only the X-Amz-Algorithm query parameter, Signature query string parameter or the Authorization header should be specified';
const PAYLOAD_HASH_VALUES =
  'x-amz-content-sha256 must be UNSIGNED-PAYLOAD, STREAMING-UNSIGNED-PAYLOAD-TRAILER, STREAMING-AWS4-HMAC-SHA256-PAYLOAD, STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER, STREAMING-AWS4-ECDSA-P256-SHA256-PAYLOAD, STREAMING-AWS4-ECDSA-P256-SHA256-PAYLOAD-TRAILER or a valid sha256 value.';
const MISMATCH =
  'The request signature we calculated does not match the signature you provided. Check your key and signing method.';
const CREDENTIAL_FORMAT = 'the Credential is mal-formed; expecting "<YOUR-AKID>/YYYYMMDD/REGION/SERVICE/aws4_request".';

/**
 * Checks the request's SigV4 signature (Authorization header or presigned query) and says who
 * signed it and how its body is to be checked. Throws `S3AuthError` for anything S3 would refuse.
 */
export async function authenticate(req: IncomingS3Request, options: AuthOptions): Promise<Authenticated> {
  const query = parseQuery(req.query);
  const authorization = headerValue(req, 'authorization')?.trim() || undefined;
  const presignedV4 = PRESIGN_PARAMS.some((name) => name in query);
  const presignedV2 = 'AWSAccessKeyId' in query || 'Signature' in query;
  if (authorization !== undefined && (presignedV4 || presignedV2)) {
    throw new S3AuthError(400, 'InvalidArgument', ONE_MECHANISM, {
      ArgumentName: 'Authorization',
      ArgumentValue: authorization,
    });
  }
  const signed =
    authorization !== undefined
      ? parseAuthorizationHeader(req, authorization)
      : presignedV4
        ? parsePresignedQuery(req, query)
        : undefined;
  if (!signed) {
    if (presignedV2) throw new S3AuthError(400, 'InvalidRequest', UNSUPPORTED);
    throw new S3AuthError(403, 'AccessDenied', 'Access Denied');
  }
  const signer = await verifySignature(req, query, signed, options, SERVICE);
  return { accessKeyId: signed.accessKeyId, presigned: signed.presigned, payload: payloadCheck(signed, signer) };
}

/**
 * Checks the Authorization header of a request to `service` (not S3) whose body has been read in
 * full: the payload hash it was signed with is the body's SHA-256 (or the x-amz-content-sha256 it
 * sent, which must then be that hash). Presigned URLs are not taken: nothing local mode serves
 * besides S3 is called through one. Throws `S3AuthError`, in S3's words, for what S3 would refuse
 * on the same grounds.
 */
export async function authenticateWithBody(
  req: IncomingS3Request,
  body: Uint8Array,
  options: AuthOptions & { service: string },
): Promise<{ accessKeyId: string }> {
  const authorization = headerValue(req, 'authorization')?.trim() || undefined;
  if (authorization === undefined) throw new S3AuthError(403, 'AccessDenied', 'Access Denied');
  const bodyHash = createHash('sha256').update(body).digest('hex');
  const signed = parseAuthorizationHeader(req, authorization, bodyHash);
  await verifySignature(req, parseQuery(req.query), signed, options, options.service);
  // The signature covers the hash the client named; the body must be what it named.
  if (signed.payloadHash.toLowerCase() !== bodyHash) {
    throw new S3AuthError(400, 'XAmzContentSHA256Mismatch', "The provided 'x-amz-content-sha256' header does not match what was computed.");
  }
  return { accessKeyId: signed.accessKeyId };
}

/** The checks every SigV4 request goes through, whatever the service; returns the signer that verified it. */
async function verifySignature(
  req: IncomingS3Request,
  query: QueryParameterBag,
  signed: SignedRequest,
  options: AuthOptions,
  service: string,
): Promise<SignatureVerifier> {
  checkScope(signed, options.region, service);
  checkEveryAmzHeaderSigned(req, signed);

  const secret = options.secretFor(signed.accessKeyId);
  if (secret === undefined) {
    throw new S3AuthError(403, 'InvalidAccessKeyId', 'The AWS Access Key Id you provided does not exist in our records.', {
      AWSAccessKeyId: signed.accessKeyId,
    });
  }
  const signer = new SignatureVerifier(service, options.region, { accessKeyId: signed.accessKeyId, secretAccessKey: secret });
  const expected = await signer.expectedSignature(req, query, signed);
  if (!sameSignature(expected.signature, signed.signature)) {
    throw new S3AuthError(403, 'SignatureDoesNotMatch', MISMATCH, {
      AWSAccessKeyId: signed.accessKeyId,
      StringToSign: expected.stringToSign,
      SignatureProvided: signed.signature,
      CanonicalRequest: expected.canonicalRequest,
    });
  }
  // S3 looks at the clock only once the signature holds, so a forged request learns nothing of it.
  checkTime(signed, (options.now ?? (() => new Date()))());
  return signer;
}

/** The parts of a signature, from either mechanism, before anything is verified. */
interface SignedRequest {
  presigned: boolean;
  accessKeyId: string;
  scope: { date: string; region: string; service: string; terminal: string };
  /** As the client wrote them: the canonical request lists exactly these. */
  signedHeaders: string[];
  signature: string;
  /** ISO 8601 basic, as it goes into the string to sign. */
  amzDate: string;
  signingDate: Date;
  /** Presigned only. */
  expiresSeconds?: number;
  /** The payload hash line of the canonical request. */
  payloadHash: string;
}

/**
 * `bodyHash`: the SHA-256 of a body already read (services other than S3), used when the client
 * sent no x-amz-content-sha256; S3 requires that header.
 */
function parseAuthorizationHeader(req: IncomingS3Request, authorization: string, bodyHash?: string): SignedRequest {
  const space = authorization.indexOf(' ');
  const scheme = space < 0 ? authorization : authorization.slice(0, space);
  if (scheme === 'AWS' || scheme === ALGORITHM_IDENTIFIER_V4A) throw new S3AuthError(400, 'InvalidRequest', UNSUPPORTED);
  if (scheme !== ALGORITHM_IDENTIFIER) {
    throw new S3AuthError(400, 'InvalidArgument', 'Unsupported Authorization Type', {
      ArgumentName: 'Authorization',
      ArgumentValue: authorization,
    });
  }
  const malformed = (detail: string) =>
    new S3AuthError(400, 'AuthorizationHeaderMalformed', `The authorization header is malformed; ${detail}`);
  const components = new Map<string, string>();
  for (const part of authorization.slice(space + 1).split(',')) {
    const eq = part.indexOf('=');
    if (eq > 0) components.set(part.slice(0, eq).trim(), part.slice(eq + 1).trim());
  }
  const credential = components.get('Credential');
  const signedHeaders = components.get('SignedHeaders');
  const signature = components.get('Signature');
  if (!credential || !signedHeaders || !signature) {
    throw malformed('the authorization header requires three components: Credential, SignedHeaders, and Signature.');
  }
  const { accessKeyId, scope } = parseCredential(credential, malformed);

  const amzDate = headerValue(req, 'x-amz-date');
  const httpDate = headerValue(req, 'date');
  // x-amz-date wins when present, even when it is not valid and a Date header is: S3 then refuses.
  const signingDate = amzDate !== undefined ? parseAmzDate(amzDate) : httpDate !== undefined ? parseHttpDate(httpDate) : undefined;
  if (!signingDate) throw new S3AuthError(403, 'AccessDenied', 'AWS authentication requires a valid Date or x-amz-date header');
  const requestDate = amzDate ?? isoBasic(signingDate);
  if (scope.date !== requestDate.slice(0, 8)) {
    throw malformed(`Invalid credential date "${scope.date}". This date is not the same as X-Amz-Date: "${requestDate.slice(0, 8)}".`);
  }

  const payloadHash = headerValue(req, 'x-amz-content-sha256') ?? bodyHash;
  if (payloadHash === undefined) {
    throw new S3AuthError(400, 'InvalidRequest', 'Missing required header for this request: x-amz-content-sha256');
  }
  return {
    presigned: false,
    accessKeyId,
    scope,
    signedHeaders: signedHeaders.split(';'),
    signature,
    amzDate: requestDate,
    signingDate,
    payloadHash,
  };
}

function parsePresignedQuery(req: IncomingS3Request, query: QueryParameterBag): SignedRequest {
  const malformed = (message: string) => new S3AuthError(400, 'AuthorizationQueryParametersError', message);
  const param = (name: (typeof PRESIGN_PARAMS)[number]): string => {
    const value = query[name];
    if (typeof value !== 'string') {
      throw malformed(
        'Query-string authentication version 4 requires the X-Amz-Algorithm, X-Amz-Credential, X-Amz-Signature, X-Amz-Date, X-Amz-SignedHeaders, and X-Amz-Expires parameters.',
      );
    }
    return value;
  };
  const algorithm = param('X-Amz-Algorithm');
  const credential = param('X-Amz-Credential');
  const signature = param('X-Amz-Signature');
  const amzDate = param('X-Amz-Date');
  const signedHeaders = param('X-Amz-SignedHeaders');
  const expires = param('X-Amz-Expires');
  if (algorithm === ALGORITHM_IDENTIFIER_V4A) throw new S3AuthError(400, 'InvalidRequest', UNSUPPORTED);
  if (algorithm !== ALGORITHM_IDENTIFIER) {
    throw malformed('X-Amz-Algorithm only supports "AWS4-HMAC-SHA256 and AWS4-ECDSA-P256-SHA256"');
  }
  const { accessKeyId, scope } = parseCredential(credential, (detail) =>
    malformed(`Error parsing the X-Amz-Credential parameter; ${detail}`),
  );
  const signingDate = parseAmzDate(amzDate);
  if (!signingDate) throw malformed(`X-Amz-Date must be in the ISO8601 Long Format "yyyyMMdd'T'HHmmss'Z'"`);
  if (!/^-?\d+$/.test(expires)) throw malformed('X-Amz-Expires should be a number');
  const expiresSeconds = Number(expires);
  if (expiresSeconds < 0) throw malformed('X-Amz-Expires must be non-negative');
  if (expiresSeconds > MAX_PRESIGNED_TTL) {
    throw malformed(
      `X-Amz-Expires must be less than a week (in seconds); that is, the given X-Amz-Expires must be less than ${MAX_PRESIGNED_TTL} seconds`,
    );
  }
  if (scope.date !== amzDate.slice(0, 8)) {
    throw malformed(`Invalid credential date "${scope.date}". This date is not the same as X-Amz-Date: "${amzDate.slice(0, 8)}".`);
  }
  const names = signedHeaders.split(';');
  // A URL cannot know the body it will carry, so S3 signs it as UNSIGNED-PAYLOAD unless the URL
  // (or a header the client signed) names a hash; the body must then hash to it.
  const contentSha256 =
    queryValue(query, 'x-amz-content-sha256') ??
    (names.includes('x-amz-content-sha256') ? headerValue(req, 'x-amz-content-sha256') : undefined);
  return {
    presigned: true,
    accessKeyId,
    scope,
    signedHeaders: names,
    signature,
    amzDate,
    signingDate,
    expiresSeconds,
    payloadHash: contentSha256 ?? UNSIGNED_PAYLOAD,
  };
}

function parseCredential(
  credential: string,
  malformed: (detail: string) => S3AuthError,
): { accessKeyId: string; scope: SignedRequest['scope'] } {
  const parts = credential.split('/');
  if (parts.length !== 5 || parts.some((part) => part === '')) throw malformed(CREDENTIAL_FORMAT);
  const [accessKeyId, date, region, service, terminal] = parts as [string, string, string, string, string];
  if (!/^\d{8}$/.test(date)) {
    throw malformed(`incorrect date format "${date}". This date in the credential must be in the format "yyyyMMdd".`);
  }
  return { accessKeyId, scope: { date, region, service, terminal } };
}

function checkScope(signed: SignedRequest, region: string, service: string): void {
  const { scope, presigned } = signed;
  const malformed = (detail: string, details?: Record<string, string>) =>
    presigned
      ? new S3AuthError(400, 'AuthorizationQueryParametersError', `Error parsing the X-Amz-Credential parameter; ${detail}`, details)
      : new S3AuthError(400, 'AuthorizationHeaderMalformed', `The authorization header is malformed; ${detail}`, details);
  if (scope.region !== region) {
    throw malformed(`the region '${scope.region}' is wrong; expecting '${region}'`, { Region: region });
  }
  if (scope.service !== service) throw malformed(`incorrect service "${scope.service}". This endpoint belongs to "${service}".`);
  if (scope.terminal !== KEY_TYPE_IDENTIFIER) {
    throw malformed(`incorrect terminal "${scope.terminal}". This endpoint uses "${KEY_TYPE_IDENTIFIER}".`);
  }
}

/**
 * An x-amz-* header the client did not sign could change what the request does (metadata, ACL,
 * copy source) without breaking the signature, so S3 refuses it. Host must be signed too, or a
 * request could be replayed against another endpoint.
 */
function checkEveryAmzHeaderSigned(req: IncomingS3Request, signed: SignedRequest): void {
  const signedSet = new Set(signed.signedHeaders);
  const notSigned = Object.keys(req.headers).filter(
    (name) =>
      req.headers[name] !== undefined &&
      name.startsWith('x-amz-') &&
      !signedSet.has(name) &&
      // A presigned URL's payload hash is in the URL; S3 ignores the header there.
      !(signed.presigned && name === 'x-amz-content-sha256'),
  );
  if (!signedSet.has('host')) notSigned.unshift('host');
  if (notSigned.length > 0) {
    throw new S3AuthError(403, 'AccessDenied', 'There were headers present in the request which were not signed', {
      HeadersNotSigned: notSigned.join(', '),
    });
  }
}

function checkTime(signed: SignedRequest, now: Date): void {
  const requestTime = signed.signingDate.getTime();
  if (!signed.presigned) {
    if (Math.abs(now.getTime() - requestTime) > MAX_SKEW_MS) {
      throw new S3AuthError(403, 'RequestTimeTooSkewed', 'The difference between the request time and the current time is too large.', {
        RequestTime: signed.amzDate,
        ServerTime: isoExtended(now),
        MaxAllowedSkewMilliseconds: String(MAX_SKEW_MS),
      });
    }
    return;
  }
  const expiresSeconds = signed.expiresSeconds ?? 0;
  const expiresAt = new Date(requestTime + expiresSeconds * 1000);
  // X-Amz-Expires=0 is a URL that was never meant to work.
  if (now > expiresAt || expiresSeconds === 0) {
    throw new S3AuthError(403, 'AccessDenied', 'Request has expired', {
      'X-Amz-Expires': String(expiresSeconds),
      Expires: isoExtended(expiresAt),
      ServerTime: isoExtended(now),
    });
  }
  if (requestTime - now.getTime() > MAX_SKEW_MS) {
    throw new S3AuthError(403, 'AccessDenied', 'Request is not yet valid', {
      'X-Amz-Date': signed.amzDate,
      ServerTime: isoExtended(now),
    });
  }
}

function payloadCheck(signed: SignedRequest, signer: SignatureV4): PayloadCheck {
  const hash = signed.payloadHash;
  if (hash === UNSIGNED_PAYLOAD) return { kind: 'unsigned' };
  if (/^[0-9a-fA-F]{64}$/.test(hash)) return { kind: 'sha256', hex: hash.toLowerCase() };
  if (!signed.presigned) {
    const signing: ChunkSigning = {
      seedSignature: signed.signature.toLowerCase(),
      amzDate: signed.amzDate,
      scope: createScope(signed.scope.date, signed.scope.region, signed.scope.service),
      signingDate: signed.signingDate,
      signer,
    };
    if (hash === STREAMING_SIGNED) return { kind: 'aws-chunked', trailer: false, signing };
    if (hash === STREAMING_SIGNED_TRAILER) return { kind: 'aws-chunked', trailer: true, signing };
    if (hash === STREAMING_UNSIGNED_TRAILER) return { kind: 'aws-chunked', trailer: true, signing: undefined };
    if (hash.startsWith('STREAMING-AWS4-ECDSA-P256-SHA256-PAYLOAD')) throw new S3AuthError(400, 'InvalidRequest', UNSUPPORTED);
  }
  throw new S3AuthError(400, 'InvalidArgument', PAYLOAD_HASH_VALUES, {
    ArgumentName: 'x-amz-content-sha256',
    ArgumentValue: hash,
  });
}

/**
 * The library's signer, asked for the signature of a request it did not build. Its `sign` and
 * `presign` would rebuild the request their own way (drop the Date header, hoist x-amz-* headers
 * into the query, add X-Amz-Content-Sha256); its canonicalisation helpers take the request as
 * the client sent it, so one path serves both mechanisms.
 */
class SignatureVerifier extends SignatureV4 {
  constructor(service: string, region: string, credentials: { accessKeyId: string; secretAccessKey: string }) {
    // uriEscapePath: S3 signs the path as sent; every other service encodes it once more.
    super({ service, region, credentials, sha256: Sha256, uriEscapePath: service !== SERVICE, applyChecksum: false });
  }

  async expectedSignature(
    req: IncomingS3Request,
    query: QueryParameterBag,
    signed: SignedRequest,
  ): Promise<{ signature: string; stringToSign: string; canonicalRequest: string }> {
    const headers: Record<string, string> = {};
    for (const name of signed.signedHeaders) {
      const value = headerValue(req, name);
      if (value !== undefined) headers[name] = value;
    }
    // protocol and hostname are not part of a canonical request; the Host header is, when signed.
    const request: HttpRequest = { method: req.method, protocol: 'http:', hostname: '', path: req.path, query, headers };
    // signableHeaders: a client may sign headers the library would leave out of its own signatures.
    const canonicalHeaders = getCanonicalHeaders(request, undefined, new Set(signed.signedHeaders));
    const canonicalRequest = this.createCanonicalRequest(request, canonicalHeaders, signed.payloadHash);
    const scope = createScope(signed.scope.date, signed.scope.region, signed.scope.service);
    const stringToSign = await this.createStringToSign(signed.amzDate, scope, canonicalRequest, ALGORITHM_IDENTIFIER);
    const signature = await this.sign(stringToSign, { signingDate: signed.signingDate });
    return { signature, stringToSign, canonicalRequest };
  }
}

/** Hex signatures compared in constant time; S3 takes the hex digits in either case. */
function sameSignature(expected: string, provided: string): boolean {
  const a = Buffer.from(expected, 'latin1');
  const b = Buffer.from(provided.toLowerCase(), 'latin1');
  return a.length === b.length && timingSafeEqual(a, b);
}

/**
 * The query as S3 reads it for signing: names and values percent-decoded (a raw `+` stays a plus),
 * repeated names kept in order. A null prototype keeps a parameter named `__proto__` a parameter.
 */
function parseQuery(raw: string): QueryParameterBag {
  const query: Record<string, string | string[]> = Object.create(null);
  for (const pair of raw.split('&')) {
    if (pair === '') continue;
    const eq = pair.indexOf('=');
    const name = decode(eq < 0 ? pair : pair.slice(0, eq));
    const value = eq < 0 ? '' : decode(pair.slice(eq + 1));
    const existing = query[name];
    query[name] = existing === undefined ? value : Array.isArray(existing) ? [...existing, value] : [existing, value];
  }
  return query;
}

function decode(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    throw new S3AuthError(400, 'InvalidURI', "Couldn't parse the specified URI.");
  }
}

/** A query parameter whose name is matched in any letter case (clients spell X-Amz-Content-Sha256 differently). */
function queryValue(query: QueryParameterBag, lowerName: string): string | undefined {
  for (const name of Object.keys(query)) {
    const value = query[name];
    if (name.toLowerCase() === lowerName && typeof value === 'string') return value;
  }
  return undefined;
}

/** A header's value; repeated headers joined with commas, as SigV4 canonicalises them. */
function headerValue(req: IncomingS3Request, name: string): string | undefined {
  const value = req.headers[name];
  return Array.isArray(value) ? value.join(',') : value;
}

function parseAmzDate(text: string): Date | undefined {
  const match = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/.exec(text);
  if (!match) return undefined;
  const [, y, mo, d, h, mi, s] = match.map(Number) as [number, number, number, number, number, number, number];
  const date = new Date(Date.UTC(y, mo - 1, d, h, mi, s));
  // Date.UTC rolls 20130231 over to March; S3 refuses such a date.
  return isoBasic(date) === text ? date : undefined;
}

function parseHttpDate(text: string): Date | undefined {
  const time = Date.parse(text);
  return Number.isNaN(time) ? undefined : new Date(time);
}

/** `20130524T000000Z`, the form of X-Amz-Date. */
function isoBasic(date: Date): string {
  return isoExtended(date).replace(/[-:]/g, '');
}

/** `2013-05-24T00:00:00Z`, the form of S3's ServerTime. */
function isoExtended(date: Date): string {
  return date.toISOString().replace(/\.\d{3}Z$/, 'Z');
}
