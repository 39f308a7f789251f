/**
 * Checks a request body against what `authenticate` found the client promised, while the body
 * streams into the store: the local server pipes the request through `payloadVerifier(auth,
 * headers)` and deletes what it wrote if the stream errors.
 *
 * - `Content-Encoding: aws-chunked` (the STREAMING-* payloads): decoded to the object's bytes, every
 *   `chunk-signature` and the trailer signature checked against the chain seeded by the request's
 *   signature, the decoded length checked against `x-amz-decoded-content-length`. The trailing
 *   headers (`x-amz-checksum-*`) are handed to the caller, not checked here.
 * - a hex `x-amz-content-sha256`: the body must hash to it.
 *
 * Memory stays flat whatever the body or chunk size: data is passed on as it arrives and only
 * chunk headers and trailer lines, both bounded, are buffered. A chunk's bytes therefore leave
 * before its signature is known, which is why the caller must discard its output on error.
 */
import { createHash, timingSafeEqual, type Hash } from 'node:crypto';
import { Transform, type TransformCallback } from 'node:stream';
import { S3AuthError, type Authenticated, type ChunkSigning } from './sigv4';

/** Trailing headers by lower-case name, e.g. `{ 'x-amz-checksum-crc32': 'rwg7LQ==' }`. */
export type Trailers = Record<string, string>;

export interface AwsChunkedOptions {
  /** Check `chunk-signature`s (and the trailer's) with this; absent for STREAMING-UNSIGNED-PAYLOAD-TRAILER. */
  signing?: ChunkSigning;
  /** Trailing headers follow the last chunk (the -TRAILER payloads). */
  trailer: boolean;
  /** `x-amz-decoded-content-length`, when the client sent it. */
  decodedContentLength?: number;
  /** The names `x-amz-trailer` announced; each must arrive. */
  announcedTrailers?: string[];
}

const EMPTY_SHA256 = createHash('sha256').digest('hex');
/** S3's smallest chunk, except for the last one that carries data. */
const MIN_CHUNK_BYTES = 8192;
/** Longest chunk header line: a size, `;chunk-signature=` and 64 hex digits fit many times over. */
const MAX_LINE_BYTES = 4096;
/** Longest trailer section, signature included. */
const MAX_TRAILER_BYTES = 16 * 1024;
const TRAILER_SIGNATURE = 'x-amz-trailer-signature';
const CRLF = Buffer.from('\r\n');

const incomplete = () => new S3AuthError(400, 'IncompleteBody', 'The request body terminated unexpectedly');
const malformedTrailer = () =>
  new S3AuthError(
    400,
    'MalformedTrailerError',
    'The request contained trailing data that was not well-formed or did not conform to our published schema.',
  );

type State =
  | { at: 'chunk-header' }
  | { at: 'chunk-data'; remaining: number }
  | { at: 'chunk-end'; matched: number }
  | { at: 'trailer' }
  | { at: 'done' };

/**
 * Decodes `<hex-size>[;chunk-signature=<sig>]\r\n<data>\r\n … 0[;chunk-signature=<sig>]\r\n[trailers]\r\n`.
 * Emits `'trailers'` with the trailing headers before it ends; they stay on `trailers` after.
 */
export class AwsChunkedDecoder extends Transform {
  /** The trailing headers, once the body has been read to its end. */
  trailers: Trailers | undefined;

  private state: State = { at: 'chunk-header' };
  /** The part of a header or trailer line that has arrived so far. */
  private line: Buffer[] = [];
  private lineBytes = 0;
  private trailerBytes = 0;
  private readonly trailerLines: string[] = [];
  private trailerSignature: string | undefined;
  private chunkHash: Hash | undefined;
  private chunkSignature: string | undefined;
  private previousSignature: string | undefined;
  private chunkIndex = 0;
  private chunkSize = 0;
  private decodedBytes = 0;

  constructor(private readonly options: AwsChunkedOptions) {
    super();
    this.previousSignature = options.signing?.seedSignature;
  }

  override _transform(data: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    this.consume(data).then(() => callback(), callback);
  }

  override _flush(callback: TransformCallback): void {
    if (this.state.at !== 'done') return callback(incomplete());
    callback();
  }

  private async consume(data: Buffer): Promise<void> {
    let at = 0;
    while (at < data.length) {
      const state = this.state;
      switch (state.at) {
        case 'chunk-header': {
          const line = this.takeLine(data, at, MAX_LINE_BYTES);
          at = line.next;
          if (line.text !== undefined) await this.startChunk(line.text);
          break;
        }
        case 'chunk-data': {
          const end = Math.min(data.length, at + state.remaining);
          const bytes = data.subarray(at, end);
          this.chunkHash?.update(bytes);
          this.push(bytes);
          state.remaining -= bytes.length;
          at = end;
          if (state.remaining === 0) this.state = { at: 'chunk-end', matched: 0 };
          break;
        }
        case 'chunk-end': {
          // The CRLF after a chunk's data may itself arrive split.
          while (state.matched < CRLF.length && at < data.length) {
            if (data[at] !== CRLF[state.matched]) throw incomplete();
            state.matched += 1;
            at += 1;
          }
          if (state.matched === CRLF.length) {
            await this.verifyChunk(this.chunkHash?.digest('hex') ?? EMPTY_SHA256);
            this.state = { at: 'chunk-header' };
          }
          break;
        }
        case 'trailer': {
          const line = this.takeLine(data, at, MAX_TRAILER_BYTES);
          this.trailerBytes += line.next - at;
          if (this.trailerBytes > MAX_TRAILER_BYTES) throw incomplete();
          at = line.next;
          if (line.text !== undefined) await this.trailerLine(line.text);
          break;
        }
        case 'done':
          throw incomplete();
      }
    }
  }

  /** Collects a line across calls; `text` is set once its CRLF has arrived. */
  private takeLine(data: Buffer, at: number, limit: number): { text?: string; next: number } {
    const lf = data.indexOf(0x0a, at);
    const end = lf < 0 ? data.length : lf + 1;
    this.lineBytes += end - at;
    if (this.lineBytes > limit) throw incomplete();
    this.line.push(data.subarray(at, end));
    if (lf < 0) return { next: end };
    const text = Buffer.concat(this.line).toString('latin1');
    this.line = [];
    this.lineBytes = 0;
    if (!text.endsWith('\r\n')) throw incomplete();
    return { text: text.slice(0, -2), next: end };
  }

  private async startChunk(header: string): Promise<void> {
    const [sizeText = '', ...extensions] = header.split(';');
    if (!/^[0-9a-fA-F]{1,12}$/.test(sizeText)) throw incomplete();
    const size = parseInt(sizeText, 16);
    if (this.options.signing) {
      const signature = extensions.find((ext) => ext.startsWith('chunk-signature='))?.slice('chunk-signature='.length);
      if (signature === undefined || extensions.length !== 1) throw incomplete();
      this.chunkSignature = signature;
    }
    if (size > 0 && this.chunkIndex > 0 && this.chunkSize < MIN_CHUNK_BYTES) {
      throw new S3AuthError(403, 'InvalidChunkSizeError', 'Only the last chunk is allowed to have a size less than 8192 bytes', {
        Chunk: String(this.chunkIndex),
        BadChunkSize: String(this.chunkSize),
      });
    }
    const expected = this.options.decodedContentLength;
    if (expected !== undefined && this.decodedBytes + size > expected) throw incomplete();
    this.decodedBytes += size;
    if (size === 0) {
      if (expected !== undefined && this.decodedBytes !== expected) throw incomplete();
      await this.verifyChunk(EMPTY_SHA256);
      this.state = { at: 'trailer' };
      return;
    }
    this.chunkIndex += 1;
    this.chunkSize = size;
    this.chunkHash = this.options.signing ? createHash('sha256') : undefined;
    this.state = { at: 'chunk-data', remaining: size };
  }

  private async verifyChunk(dataSha256: string): Promise<void> {
    const signing = this.options.signing;
    if (!signing) return;
    const stringToSign = [
      'AWS4-HMAC-SHA256-PAYLOAD',
      signing.amzDate,
      signing.scope,
      this.previousSignature,
      EMPTY_SHA256,
      dataSha256,
    ].join('\n');
    this.previousSignature = await this.verify(signing, stringToSign, this.chunkSignature ?? '');
  }

  private async trailerLine(text: string): Promise<void> {
    if (text !== '') {
      const colon = text.indexOf(':');
      if (colon <= 0 || !this.options.trailer) throw malformedTrailer();
      const name = text.slice(0, colon).trim().toLowerCase();
      const value = text.slice(colon + 1).trim();
      if (name === TRAILER_SIGNATURE) this.trailerSignature = value;
      else if (this.trailerSignature !== undefined) throw malformedTrailer();
      else this.trailerLines.push(`${name}:${value}`);
      return;
    }
    const trailers: Trailers = Object.create(null);
    for (const line of this.trailerLines) {
      const colon = line.indexOf(':');
      trailers[line.slice(0, colon)] = line.slice(colon + 1);
    }
    const missing = (this.options.announcedTrailers ?? []).some((name) => !(name in trailers));
    if (this.options.trailer && (missing || this.trailerLines.length === 0)) throw malformedTrailer();
    const signing = this.options.signing;
    if (signing && this.options.trailer) {
      const canonical = this.trailerLines.map((line) => `${line}\n`).join('');
      const stringToSign = [
        'AWS4-HMAC-SHA256-TRAILER',
        signing.amzDate,
        signing.scope,
        this.previousSignature,
        createHash('sha256').update(canonical, 'latin1').digest('hex'),
      ].join('\n');
      await this.verify(signing, stringToSign, this.trailerSignature ?? '');
    }
    this.trailers = trailers;
    this.state = { at: 'done' };
    this.emit('trailers', trailers);
  }

  /** Signs with the library (the request's key, the request's day) and compares in constant time. */
  private async verify(signing: ChunkSigning, stringToSign: string, provided: string): Promise<string> {
    const expected = await signing.signer.sign(stringToSign, { signingDate: signing.signingDate });
    const a = Buffer.from(expected, 'latin1');
    const b = Buffer.from(provided.toLowerCase(), 'latin1');
    if (a.length !== b.length || !timingSafeEqual(a, b)) {
      throw new S3AuthError(
        403,
        'SignatureDoesNotMatch',
        'The request signature we calculated does not match the signature you provided. Check your key and signing method.',
        { StringToSign: stringToSign, SignatureProvided: provided },
      );
    }
    return expected;
  }
}

/**
 * Passes the body through and, at its end, fails unless it hashed to `hex`: a client that signed
 * its payload's SHA-256 must have sent that payload.
 */
export function createSha256Verifier(hex: string): Transform {
  const hash = createHash('sha256');
  return new Transform({
    transform(data: Buffer, _encoding, callback) {
      hash.update(data);
      callback(null, data);
    },
    flush(callback) {
      const computed = hash.digest('hex');
      if (computed === hex.toLowerCase()) return callback();
      callback(
        new S3AuthError(400, 'XAmzContentSHA256Mismatch', "The provided 'x-amz-content-sha256' header does not match what was computed.", {
          ClientComputedContentSHA256: hex,
          S3ComputedContentSHA256: computed,
        }),
      );
    },
  });
}

/**
 * The transform the request body must go through before it is stored, or undefined when there is
 * nothing to check (UNSIGNED-PAYLOAD, presigned URLs). For aws-chunked bodies it is an
 * `AwsChunkedDecoder`: its output is the object's bytes and it emits `'trailers'`.
 */
export function payloadVerifier(
  auth: Authenticated,
  headers: Record<string, string | string[] | undefined>,
): Transform | undefined {
  const payload = auth.payload;
  switch (payload.kind) {
    case 'unsigned':
      return undefined;
    case 'sha256':
      return createSha256Verifier(payload.hex);
    case 'aws-chunked':
      return new AwsChunkedDecoder({
        signing: payload.signing,
        trailer: payload.trailer,
        decodedContentLength: decodedContentLength(single(headers['x-amz-decoded-content-length'])),
        announcedTrailers: single(headers['x-amz-trailer'])
          ?.split(',')
          .map((name) => name.trim().toLowerCase())
          .filter((name) => name !== ''),
      });
  }
}

function decodedContentLength(value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  if (!/^\d{1,15}$/.test(value.trim())) {
    throw new S3AuthError(400, 'InvalidArgument', 'x-amz-decoded-content-length must be a non-negative integer', {
      ArgumentName: 'x-amz-decoded-content-length',
      ArgumentValue: value,
    });
  }
  return Number(value.trim());
}

function single(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value.join(',') : value;
}
