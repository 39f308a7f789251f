import type { APIGatewayProxyEvent } from 'aws-lambda';
import { MAX_PARTS } from '../../../lambda/core/multipart';
import { MAX_PARTS_PER_UPLOAD } from '../../../lambda/shared/api-schemas';
import { BadRequestError } from '../../../lambda/shared/errors';
import { parseCompleteUpload, parseCreateUpload, parseListQuery, parseReadQuery, parseSignParts } from '../../../lambda/handlers/inputs';

const withBody = (body: unknown) => ({ body: JSON.stringify(body), isBase64Encoded: false }) as APIGatewayProxyEvent;
const withQuery = (query: Record<string, string>) => ({ queryStringParameters: query }) as unknown as APIGatewayProxyEvent;
const config = { maxUploadBytes: 1000, multipartThresholdBytes: 100 };

function refusal(fn: () => unknown): { code: string; message: string } {
  try {
    fn();
  } catch (err) {
    if (err instanceof BadRequestError) return { code: err.code, message: err.message };
    throw err;
  }
  throw new Error('not refused');
}

describe('the edge: events to typed inputs', () => {
  it('keeps the schemas\' part limit equal to the multipart planner\'s', () => {
    expect(MAX_PARTS_PER_UPLOAD).toBe(MAX_PARTS);
  });

  it('passes the checksum fields on, typed', () => {
    expect(parseCreateUpload(withBody({ key: 'a.csv', contentType: 'text/csv', size: 3, checksum: { algorithm: 'CRC32C', value: 'AAAAAA==' } }), config)).toEqual({
      key: 'a.csv',
      contentType: 'text/csv',
      size: 3,
      checksum: { algorithm: 'CRC32C', value: 'AAAAAA==' },
    });
    expect(parseSignParts(withBody({ key: 'a', partNumbers: [1], checksums: { '1': 'AAAAAA==' } }))).toEqual({ key: 'a', partNumbers: [1], checksums: { '1': 'AAAAAA==' } });
    expect(parseCompleteUpload(withBody({ key: 'a', checksum: 'AAAAAA==' }))).toEqual({ key: 'a', which: { listed: true }, checksum: 'AAAAAA==' });
  });

  it('takes a single PUT\'s checksum value and only an algorithm for a multipart session, by the size', () => {
    const big = 500;
    expect(refusal(() => parseCreateUpload(withBody({ key: 'a.csv', contentType: 'text/csv', size: 3, checksum: { algorithm: 'CRC32' } }), config)).code).toBe('ChecksumValueRequired');
    expect(refusal(() => parseCreateUpload(withBody({ key: 'a.csv', contentType: 'text/csv', size: big, checksum: { algorithm: 'CRC32', value: 'AAAAAA==' } }), config)).code).toBe('InvalidChecksum');
    expect(refusal(() => parseCreateUpload(withBody({ key: 'a.csv', contentType: 'text/csv', size: big, checksum: { algorithm: 'SHA256' } }), config)).code).toBe('InvalidChecksum');
    expect(refusal(() => parseCreateUpload(withBody({ key: 'a.csv', contentType: 'text/csv', size: 3, checksum: { algorithm: 'CRC32', value: 'AAAA' } }), config)).code).toBe('InvalidChecksum');
    expect(parseCreateUpload(withBody({ key: 'a.csv', contentType: 'text/csv', size: big, checksum: { algorithm: 'CRC64NVME' } }), config).checksum).toEqual({ algorithm: 'CRC64NVME' });
  });

  it('names the checksum field that is not valid (an unknown algorithm)', () => {
    expect(refusal(() => parseCreateUpload(withBody({ key: 'a.csv', contentType: 'text/csv', size: 3, checksum: { algorithm: 'MD5' } }), config))).toEqual({
      code: 'InvalidChecksum',
      message: expect.stringContaining('checksum.algorithm'),
    });
  });

  it('answers InvalidPart for a part without an etag, naming its number', () => {
    expect(refusal(() => parseCompleteUpload(withBody({ key: 'a', parts: [{ partNumber: 3 }] })))).toEqual({ code: 'InvalidPart', message: 'Part 3 needs an etag string' });
  });

  it('refuses parts out of order', () => {
    expect(refusal(() => parseCompleteUpload(withBody({ key: 'a', parts: [{ partNumber: 2, etag: 'x' }, { partNumber: 1, etag: 'y' }] }))).code).toBe('InvalidPartOrder');
  });

  it('parses a listing query into numbers and a delimiter, with the defaults', () => {
    expect(parseListQuery(withQuery({}))).toEqual({ prefix: '', delimiter: '', limit: 100 });
    expect(parseListQuery(withQuery({ prefix: 'a/', delimiter: '/', limit: '5', cursor: 'c' }))).toEqual({ prefix: 'a/', delimiter: '/', limit: 5, cursor: 'c' });
    expect(refusal(() => parseListQuery(withQuery({ limit: '1001' }))).code).toBe('InvalidLimit');
  });

  it('parses rows and columns of a read', () => {
    expect(parseReadQuery(withQuery({ rows: '10:5', columns: 'a, b' }))).toEqual({ download: false, rows: { offset: 10, limit: 5 }, columns: ['a', 'b'] });
    expect(refusal(() => parseReadQuery(withQuery({ rows: '0:0' }))).code).toBe('InvalidRows');
  });
});
