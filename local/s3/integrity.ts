/**
 * What a write request says about its bytes' checksum (`x-amz-checksum-*` as a header, a presigned
 * URL's query parameter or an aws-chunked trailer, and `x-amz-sdk-checksum-algorithm`), and the
 * check S3 makes once the body has arrived: 400 BadDigest when the bytes do not match, 400
 * InvalidRequest for a malformed or contradictory declaration. The body is hashed as it streams
 * (`ChecksumTap`), so memory stays flat.
 */
import { Transform, type TransformCallback } from 'node:stream';
import {
  CHECKSUM_ALGORITHMS,
  checksumHeader,
  createChecksum,
  digestBytes,
  isChecksumAlgorithm,
  type ChecksumAlgorithm,
  type StreamingHash,
} from './checksums';
import { S3Error } from './xml';

type Headers = Record<string, string | string[] | undefined>;

export interface DeclaredChecksum {
  algorithm: ChecksumAlgorithm;
  /** The value from a header or the query; undefined when it comes in a trailer. */
  value?: Buffer;
}

const single = (v: string | string[] | undefined) => (Array.isArray(v) ? v.join(',') : v);
const invalidValue = (name: string) => new S3Error(400, 'InvalidRequest', `Value for ${name} header is invalid.`);

/** A checksum value as S3 accepts it: base64 of exactly the algorithm's digest length. */
export function parseChecksumValue(algorithm: ChecksumAlgorithm, raw: string, name = checksumHeader(algorithm)): Buffer {
  const text = raw.trim();
  const bytes = Buffer.from(text, 'base64');
  if (bytes.length !== digestBytes(algorithm) || bytes.toString('base64') !== text) throw invalidValue(name);
  return bytes;
}

/** The one checksum a request declares, if any (see the module comment for where it may be). */
export function declaredChecksum(headers: Headers, query: URLSearchParams): DeclaredChecksum | undefined {
  const lookup = (name: string) => single(headers[name]) ?? query.get(name) ?? undefined;
  const found: DeclaredChecksum[] = [];
  for (const algorithm of CHECKSUM_ALGORITHMS) {
    const raw = lookup(checksumHeader(algorithm));
    if (raw !== undefined) found.push({ algorithm, value: parseChecksumValue(algorithm, raw) });
  }
  const trailers = (single(headers['x-amz-trailer']) ?? '')
    .split(',')
    .map((s) => s.trim().toLowerCase())
    .filter((s) => s.startsWith('x-amz-checksum-'));
  for (const name of trailers) {
    const algorithm = name.slice('x-amz-checksum-'.length).toUpperCase();
    if (!isChecksumAlgorithm(algorithm)) throw invalidValue('x-amz-trailer');
    found.push({ algorithm });
  }
  if (found.length > 1) throw new S3Error(400, 'InvalidRequest', 'Expecting a single x-amz-checksum- header. Multiple checksum Types are not allowed.');
  const sdk = lookup('x-amz-sdk-checksum-algorithm');
  if (sdk !== undefined) {
    const algorithm = sdk.trim().toUpperCase();
    if (!isChecksumAlgorithm(algorithm)) throw invalidValue('x-amz-sdk-checksum-algorithm');
    if (found.length === 0) {
      throw new S3Error(400, 'InvalidRequest', 'x-amz-sdk-checksum-algorithm specified, but no corresponding x-amz-checksum-* or x-amz-trailer headers were found.');
    }
    if (found[0]!.algorithm !== algorithm) throw invalidValue('x-amz-sdk-checksum-algorithm');
  }
  return found[0];
}

/** Hashes the bytes passing through with one algorithm. */
export class ChecksumTap extends Transform {
  private readonly hash: StreamingHash;
  constructor(readonly algorithm: ChecksumAlgorithm) {
    super();
    this.hash = createChecksum(algorithm);
  }
  override _transform(chunk: Buffer, _enc: BufferEncoding, done: TransformCallback): void {
    this.hash.update(chunk);
    done(null, chunk);
  }
  /** The digest, once the stream has ended. */
  digest(): Buffer {
    return this.hash.digest();
  }
}

/**
 * Compares the declared checksum (its value, or the trailer's once the body has been read) with
 * what was computed. Returns the digest to store.
 */
export function verifyChecksum(declared: DeclaredChecksum, computed: Buffer, trailers: Record<string, string> | undefined): Buffer {
  const name = checksumHeader(declared.algorithm);
  const expected = declared.value ?? (trailers?.[name] !== undefined ? parseChecksumValue(declared.algorithm, trailers[name]!, name) : undefined);
  if (expected === undefined) throw new S3Error(400, 'InvalidRequest', `The trailer ${name} was announced but not sent.`);
  if (!expected.equals(computed)) {
    throw new S3Error(400, 'BadDigest', `The ${declared.algorithm} you specified did not match the calculated checksum.`);
  }
  return computed;
}
