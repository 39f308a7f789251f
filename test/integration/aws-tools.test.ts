import { execFile, spawnSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { startLocalService, type LocalService } from '../../local/service';
import { PROFILE_SUFFIX } from '../../lambda/shared/keys';

/**
 * The AWS CLI and boto3 against the embedded S3, with its admin key: their signatures (botocore's
 * own SigV4), their multipart uploads and their reads must all be accepted, and what they write
 * under users/<user>/ is profiled like an API upload. Skipped, saying so, where the tools are not
 * installed (local mode does not need them).
 */
jest.setTimeout(120_000);

const run = promisify(execFile);
const hasAwsCli = spawnSync('sh', ['-c', 'command -v aws'], { encoding: 'utf8' }).status === 0;
const hasBoto3 = spawnSync('python3', ['-c', 'import boto3'], { encoding: 'utf8' }).status === 0;
const sha256 = (b: Buffer) => createHash('sha256').update(b).digest('hex');

let service: LocalService;
let dir: string;
let env: NodeJS.ProcessEnv;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 's3fs-awstools-'));
  service = await startLocalService({ dataDir: join(dir, 'data'), port: 0, s3Port: 0, reconcile: false });
  env = {
    ...process.env,
    AWS_ACCESS_KEY_ID: service.credentials.accessKeyId,
    AWS_SECRET_ACCESS_KEY: service.credentials.secretAccessKey,
    AWS_DEFAULT_REGION: service.region,
    AWS_CONFIG_FILE: '/dev/null',
    AWS_SHARED_CREDENTIALS_FILE: '/dev/null',
  };
});
afterAll(async () => {
  await service?.stop();
  await rm(dir, { recursive: true, force: true });
});

async function profileStatus(user: string, key: string): Promise<number> {
  await service.processing.idle();
  const res = await fetch(`${service.apiUrl}/buckets/results/objects/${key}${PROFILE_SUFFIX}`, { headers: { authorization: `Bearer ${service.token(user)}` } });
  return res.status;
}

const describeCli = hasAwsCli ? describe : describe.skip;
const describeBoto = hasBoto3 ? describe : describe.skip;
if (!hasAwsCli) console.warn('The AWS CLI is not on PATH: its uploads to the embedded S3 were not tested.');
if (!hasBoto3) console.warn('boto3 is not installed for python3: its requests to the embedded S3 were not tested.');

describeCli('the AWS CLI', () => {
  it.each([
    ['a small file', 1_000],
    ['a multipart file (over the CLI\'s 8 MB threshold)', 9 * 1024 * 1024],
  ])('copies %s in and out byte-exact, and it gets profiled', async (_what, size) => {
    const data = randomBytes(size);
    const local = join(dir, `cli-${size}.bin`);
    await writeFile(local, data);
    const target = `s3://${service.buckets.uploads}/users/cli-user/cli-${size}.bin`;

    await run('aws', ['s3', 'cp', '--only-show-errors', '--endpoint-url', service.s3Endpoint, local, target], { env });
    await run('aws', ['s3', 'cp', '--only-show-errors', '--endpoint-url', service.s3Endpoint, target, `${local}.back`], { env });

    expect(sha256(await readFile(`${local}.back`))).toBe(sha256(data));
    expect(await profileStatus('cli-user', `cli-${size}.bin`)).toBe(200);
  });
});

describeBoto('boto3', () => {
  it('lists buckets, uploads a multipart file with upload_file and reads it back with get_object', async () => {
    const data = randomBytes(9 * 1024 * 1024);
    const local = join(dir, 'boto.bin');
    await writeFile(local, data);
    const script = [
      'import boto3, hashlib, sys',
      `s3 = boto3.client('s3', endpoint_url='${service.s3Endpoint}')`,
      "print(','.join(sorted(b['Name'] for b in s3.list_buckets()['Buckets'])))",
      `s3.upload_file(sys.argv[1], '${service.buckets.uploads}', 'users/boto-user/boto.bin')`,
      `print(hashlib.sha256(s3.get_object(Bucket='${service.buckets.uploads}', Key='users/boto-user/boto.bin')['Body'].read()).hexdigest())`,
    ].join('\n');

    const { stdout } = await run('python3', ['-c', script, local], { env });

    expect(stdout.trim().split('\n')).toEqual([[service.buckets.results, service.buckets.uploads].sort().join(','), sha256(data)]);
    expect(await profileStatus('boto-user', 'boto.bin')).toBe(200);
  });
});
