import { GetObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { MOTO } from './support/moto';
import { embeddedS3Target, motoS3Target, type S3Target } from './support/s3-targets';
import { describeWith } from './support/optional-tools';

/**
 * The completion claim (lambda/core/completion-claims.ts) rests on S3's conditional writes: of
 * PutObjects with `If-None-Match: *` on one key exactly one creates it, and `If-Match` holds only for
 * the current ETag. The embedded S3 must enforce both over HTTP as S3 does, or local mode would let
 * two completions of one upload through. Checked against moto too.
 */
jest.setTimeout(120_000);

const Bucket = 'conditional-bucket';

function serverSuite(start: () => Promise<S3Target>): void {
  let target: S3Target;
  beforeAll(async () => {
    target = await start();
  });
  afterAll(async () => {
    await target?.stop();
  });

  const put = (Key: string, Body: string, condition: { IfNoneMatch?: string; IfMatch?: string }) =>
    target.s3.send(new PutObjectCommand({ Bucket, Key, Body, ...condition }));
  const bodyOf = async (Key: string) => (await target.s3.send(new GetObjectCommand({ Bucket, Key }))).Body!.transformToString();

  it('lets exactly one of several concurrent If-None-Match: * writes create the key; the others get 412 PreconditionFailed', async () => {
    const outcomes = await Promise.allSettled(Array.from({ length: 8 }, (_, i) => put('race/claim', `writer ${i}`, { IfNoneMatch: '*' })));

    const won = outcomes.flatMap((o, i) => (o.status === 'fulfilled' ? [i] : []));
    const lost = outcomes.flatMap((o) => (o.status === 'rejected' ? [(o.reason as { name: string }).name] : []));
    expect(won).toHaveLength(1);
    expect(new Set(lost)).toEqual(new Set(['PreconditionFailed']));
    expect(await bodyOf('race/claim')).toBe(`writer ${won[0]}`);
  });

  it('refuses If-None-Match: * on a key that exists, keeping the object', async () => {
    await put('exists/claim', 'first', {});

    await expect(put('exists/claim', 'second', { IfNoneMatch: '*' })).rejects.toMatchObject({ name: 'PreconditionFailed', $metadata: { httpStatusCode: 412 } });
    expect(await bodyOf('exists/claim')).toBe('first');
  });

  it('writes with If-Match on the current ETag, and refuses a stale one with 412', async () => {
    const first = await put('match/claim', 'first', {});
    const second = await put('match/claim', 'second', { IfMatch: first.ETag! });

    await expect(put('match/claim', 'third', { IfMatch: first.ETag! })).rejects.toMatchObject({ name: 'PreconditionFailed', $metadata: { httpStatusCode: 412 } });
    expect(second.ETag).not.toBe(first.ETag);
    expect(await bodyOf('match/claim')).toBe('second');
  });

  it('refuses If-Match on a missing key with 404', async () => {
    await expect(put('missing/claim', 'x', { IfMatch: '"0123456789abcdef0123456789abcdef"' })).rejects.toMatchObject({ $metadata: { httpStatusCode: 404 } });
  });
}

describe('conditional PutObject on the embedded S3', () => serverSuite(() => embeddedS3Target(Bucket)));
describeWith(MOTO, 'conditional PutObject on moto_server', () => serverSuite(() => motoS3Target(Bucket)));
