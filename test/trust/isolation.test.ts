import { ROUTES, type Route } from '../../lambda/shared/routes';
import { signPayload } from '../../lambda/shared/signed-token';
import { fixedSigningKeys } from '../../lambda/shared/signing-keys';
import { ApiUser, call, encodeKey, eventually, putPresigned, snapshot, startService, type MultipartSession, type Started } from './helpers';

/**
 * User B (bob), with a valid token, against everything of user A's (alice), over every route in
 * the route table and every spelling of A's keys, upload ids, grants and cursors. The table is
 * iterated, so a new route without cases here fails the first test.
 */
jest.setTimeout(60_000);

const A = 'alice';
const B = 'bob';
const A_KEY = 'secret/a.csv';
const A_MULTIPART_KEY = 'secret/big.bin';
const A_UPPY_KEY = 'secret/uppy.bin';

let started: Started;
let alice: ApiUser;
let bob: ApiUser;
let aliceSession: MultipartSession;
/** S3's own id of alice's multipart upload made through POST /uploads/sign (Uppy's signRequest mode). */
let aliceUppyUploadId: string;
let aliceCursor: string;
let before: string[];

const routeOf = (operation: string): Route => ROUTES.find((r) => r.operation === operation)!;

/** The route's resource with its parameters filled in, raw (already encoded as the caller sends it). */
function pathOf(operation: string, params: Record<string, string>, query = ''): string {
  const path = routeOf(operation).resource.replace(/\{(\w+)\+?\}/g, (_, name: string) => {
    const value = params[name];
    if (value === undefined) throw new Error(`no value for {${name}} in ${operation}`);
    return value;
  });
  return query ? `${path}?${query}` : path;
}

// Ways to write alice's key from bob's side, as sent on the wire in a path (already percent-encoded).
// `own`: the spelling is a legal key inside bob's own area, so it names nothing of alice's (404 there);
// `invalid`: the key rules refuse it (400 InvalidKey).
const A_KEY_SPELLINGS: { label: string; raw: string; verdict: 'invalid' | 'own' }[] = [
  { label: 'the same relative key', raw: 'secret/a.csv', verdict: 'own' },
  { label: '../', raw: `../${A}/secret/a.csv`, verdict: 'invalid' },
  { label: '../../users/', raw: `../../users/${A}/secret/a.csv`, verdict: 'invalid' },
  { label: '%2e%2e', raw: `%2e%2e/${A}/secret/a.csv`, verdict: 'invalid' },
  { label: '%2E%2E%2F', raw: `%2E%2E%2F${A}%2Fsecret%2Fa.csv`, verdict: 'invalid' },
  { label: '.%2e mixed', raw: `.%2e/${A}/secret/a.csv`, verdict: 'invalid' },
  { label: 'a leading /', raw: `/users/${A}/secret/a.csv`, verdict: 'invalid' },
  { label: 'a leading %2F', raw: `%2Fusers%2F${A}%2Fsecret%2Fa.csv`, verdict: 'invalid' },
  { label: 'users/<A>/ written out', raw: `users/${A}/secret/a.csv`, verdict: 'own' },
  { label: 'users%2F<A> encoded', raw: `users%2F${A}%2Fsecret%2Fa.csv`, verdict: 'own' },
  { label: 'double slashes', raw: `..//${A}//secret/a.csv`, verdict: 'invalid' },
  { label: 'backslashes', raw: `..\\${A}\\secret\\a.csv`, verdict: 'invalid' },
  { label: '%5C backslashes', raw: `..%5C${A}%5Csecret%5Ca.csv`, verdict: 'invalid' },
  { label: 'fullwidth ．．／', raw: encodeURIComponent(`．．／${A}／secret／a.csv`), verdict: 'own' },
  { label: 'U+2215 division slash', raw: encodeURIComponent(`..\u2215${A}\u2215secret\u2215a.csv`), verdict: 'own' },
  { label: 'U+2024 one-dot leaders', raw: encodeURIComponent(`\u2024\u2024/${A}/secret/a.csv`), verdict: 'own' },
  { label: 'double-encoded %252e%252e', raw: `%252e%252e/${A}/secret/a.csv`, verdict: 'own' },
];

// The same ways, as a JSON/query value (decoded text).
const A_KEY_TEXT_SPELLINGS: { label: string; key: string; verdict: 'invalid' | 'own' }[] = [
  { label: '../', key: `../${A}/secret/a.csv`, verdict: 'invalid' },
  { label: 'a leading /', key: `/users/${A}/secret/a.csv`, verdict: 'invalid' },
  { label: 'double slashes', key: `..//${A}/secret/a.csv`, verdict: 'invalid' },
  { label: 'backslashes', key: `..\\${A}\\secret\\a.csv`, verdict: 'invalid' },
  { label: 'users/<A>/ written out', key: `users/${A}/secret/a.csv`, verdict: 'own' },
  { label: 'literal %2e%2e', key: `%2e%2e/${A}/secret/a.csv`, verdict: 'own' },
  { label: 'fullwidth ．．／', key: `．．／${A}／secret／a.csv`, verdict: 'own' },
  { label: 'U+2215 division slash', key: `..\u2215${A}\u2215secret\u2215a.csv`, verdict: 'own' },
];

interface Case {
  name: string;
  operation: string;
  method: string;
  path: () => string;
  body?: () => unknown;
  /** Defaults to bob's token; `null` sends none. */
  token?: () => string | null;
  status: number;
  /** Expected `error.code`; omitted for HEAD (no body) and for success. */
  code?: string;
  /** More checks on a successful reply (it still must not reveal or touch alice's data). */
  check?: (json: unknown) => void;
}

function flipLastChar(token: string): string {
  const last = token.at(-1)!;
  return token.slice(0, -1) + (last === 'A' ? 'B' : 'A');
}

/** Alice's upload id with its payload rewritten to name bob, keeping alice's MAC. */
function reassigned(uploadId: string): string {
  const [body, sig] = uploadId.split('.') as [string, string];
  const payload = JSON.parse(Buffer.from(body, 'base64url').toString('utf8')) as Record<string, unknown>;
  return `${Buffer.from(JSON.stringify({ ...payload, s: B })).toString('base64url')}.${sig}`;
}

function buildCases(): Case[] {
  const cases: Case[] = [];
  const add = (c: Case) => cases.push(c);
  const bucketsForRead = [
    { bucket: 'uploads', suffix: '' },
    { bucket: 'results', suffix: '.profile.json' },
  ];

  add({
    name: 'lists only the logical buckets, nothing of A',
    operation: 'listBuckets',
    method: 'GET',
    path: () => pathOf('listBuckets', {}),
    status: 200,
    check: (json) => expect(JSON.stringify(json)).not.toContain(A),
  });

  // ---- listObjects: prefixes, buckets, cursors
  for (const bucket of ['uploads', 'results']) {
    add({
      name: `lists nothing in ${bucket} without a prefix`,
      operation: 'listObjects',
      method: 'GET',
      path: () => pathOf('listObjects', { bucket }),
      status: 200,
      check: (json) => expect(json).toEqual({ objects: [], prefixes: [], nextCursor: null }),
    });
    for (const s of [...A_KEY_TEXT_SPELLINGS, { label: "A's folder", key: 'secret/', verdict: 'own' as const }]) {
      const prefix = s.key.replace(/a\.csv$/, '');
      add({
        name: `lists ${bucket} with A's prefix spelled ${s.label}`,
        operation: 'listObjects',
        method: 'GET',
        path: () => pathOf('listObjects', { bucket }, `prefix=${encodeURIComponent(prefix)}`),
        ...(s.verdict === 'invalid'
          ? { status: 400, code: 'InvalidKey' }
          : { status: 200, check: (json: unknown) => expect(json).toEqual({ objects: [], prefixes: [], nextCursor: null }) }),
      });
    }
  }
  for (const raw of ['%2e%2e', `..%2Fusers%2F${A}`, 'uploads%2F..', '%2E%2E%2Fresults']) {
    add({
      name: `refuses a bucket spelled ${raw}`,
      operation: 'listObjects',
      method: 'GET',
      path: () => pathOf('listObjects', { bucket: raw }),
      status: 404,
      code: 'NoSuchBucket',
    });
  }
  add({
    name: "refuses A's cursor from B",
    operation: 'listObjects',
    method: 'GET',
    path: () => pathOf('listObjects', { bucket: 'uploads' }, `limit=1&cursor=${encodeURIComponent(aliceCursor)}`),
    status: 400,
    code: 'InvalidCursor',
  });
  add({
    name: "refuses A's cursor from B under A's prefix written out",
    operation: 'listObjects',
    method: 'GET',
    path: () => pathOf('listObjects', { bucket: 'uploads' }, `limit=1&prefix=${encodeURIComponent(`users/${A}/`)}&cursor=${encodeURIComponent(aliceCursor)}`),
    status: 400,
    code: 'InvalidCursor',
  });
  add({
    name: 'refuses a changed cursor (from A, for A)',
    operation: 'listObjects',
    method: 'GET',
    token: () => alice.token,
    path: () => pathOf('listObjects', { bucket: 'uploads' }, `limit=1&cursor=${encodeURIComponent(flipLastChar(aliceCursor))}`),
    status: 400,
    code: 'InvalidCursor',
  });
  add({
    name: 'refuses a cursor whose S3 token was swapped (from A, for A)',
    operation: 'listObjects',
    method: 'GET',
    token: () => alice.token,
    path: () => {
      const [, mac] = aliceCursor.split('.') as [string, string];
      return pathOf('listObjects', { bucket: 'uploads' }, `limit=1&cursor=${Buffer.from('another-token').toString('base64url')}.${mac}`);
    },
    status: 400,
    code: 'InvalidCursor',
  });
  for (const [label, query] of [
    ['another prefix', 'prefix=secret%2Fb'],
    ['another delimiter', 'delimiter=%2F'],
  ] as const) {
    add({
      name: `refuses A's cursor for ${label} (from A)`,
      operation: 'listObjects',
      method: 'GET',
      token: () => alice.token,
      path: () => pathOf('listObjects', { bucket: 'uploads' }, `limit=1&${query}&cursor=${encodeURIComponent(aliceCursor)}`),
      status: 400,
      code: 'InvalidCursor',
    });
  }
  add({
    name: "refuses A's cursor for another bucket (from A)",
    operation: 'listObjects',
    method: 'GET',
    token: () => alice.token,
    path: () => pathOf('listObjects', { bucket: 'results' }, `limit=1&cursor=${encodeURIComponent(aliceCursor)}`),
    status: 400,
    code: 'InvalidCursor',
  });

  // ---- getObject / headObject / deleteObject: every spelling, both buckets
  for (const { bucket, suffix } of bucketsForRead) {
    for (const s of A_KEY_SPELLINGS) {
      const key = () => s.raw + suffix;
      const invalid = s.verdict === 'invalid';
      add({
        name: `cannot read A's ${bucket} object spelled ${s.label}`,
        operation: 'getObject',
        method: 'GET',
        path: () => pathOf('getObject', { bucket, key: key() }),
        ...(invalid ? { status: 400, code: 'InvalidKey' } : { status: 404, code: 'NoSuchKey' }),
      });
      add({
        name: `cannot HEAD A's ${bucket} object spelled ${s.label}`,
        operation: 'headObject',
        method: 'HEAD',
        path: () => pathOf('headObject', { bucket, key: key() }),
        status: invalid ? 400 : 404,
      });
      add({
        name: `cannot delete A's ${bucket} object spelled ${s.label}`,
        operation: 'deleteObject',
        method: 'DELETE',
        path: () => pathOf('deleteObject', { bucket, key: key() }),
        // results is read-only whatever the key; in uploads a key in bob's own area is an idempotent delete
        ...(bucket === 'results' ? { status: 403, code: 'ReadOnlyBucket' } : invalid ? { status: 400, code: 'InvalidKey' } : { status: 204 }),
      });
    }
  }

  // ---- createUpload: a key can only land in bob's own area
  for (const s of A_KEY_TEXT_SPELLINGS) {
    for (const size of [10, 6 * 1024 * 1024]) {
      add({
        name: `cannot create an upload (${size > 10 ? 'multipart' : 'PUT'}) at A's key spelled ${s.label}`,
        operation: 'createUpload',
        method: 'POST',
        path: () => pathOf('createUpload', {}),
        body: () => ({ key: s.key, size, contentType: 'text/csv' }),
        ...(s.verdict === 'invalid'
          ? { status: 400, code: 'InvalidKey' }
          : {
              status: 201,
              check: (json: unknown) => {
                const created = json as { url?: string; uploadId: string | null };
                if (created.url) expect(decodeURIComponent(new URL(created.url).pathname)).toMatch(new RegExp(`^/[^/]+/users/${B}/`));
                else expect(JSON.parse(Buffer.from(created.uploadId!.split('.')[0]!, 'base64url').toString('utf8')).s).toBe(B);
              },
            }),
      });
    }
  }

  // ---- the multipart routes with A's upload id, every spelling of A's key, and forged ids
  const multipartOps: { operation: string; method: string; query: boolean; body?: (key: string) => unknown }[] = [
    { operation: 'signParts', method: 'POST', query: false, body: (key) => ({ key, partNumbers: [1, 2] }) },
    { operation: 'listParts', method: 'GET', query: true },
    { operation: 'completeUpload', method: 'POST', query: false, body: (key) => ({ key, parts: [{ partNumber: 1, etag: '"x"' }] }) },
    { operation: 'abortUpload', method: 'DELETE', query: true },
  ];
  const ids: { label: string; id: () => string }[] = [
    { label: "A's upload id", id: () => aliceSession.uploadId },
    { label: "A's upload id rewritten to name B", id: () => reassigned(aliceSession.uploadId) },
    { label: "A's upload id signed with another secret", id: () => signPayload(fixedSigningKeys({ upload: 'not-the-secret-not-the-secret-not-the' }).ring('upload'), 'upload', { v: 1, u: 'x', s: B, k: A_MULTIPART_KEY, z: 1, p: 1, e: 9e9 }) },
    { label: "A's cursor as an upload id", id: () => aliceCursor },
    { label: "A's S3 upload id (Uppy)", id: () => aliceUppyUploadId },
  ];
  const keys = [A_MULTIPART_KEY, `../${A}/${A_MULTIPART_KEY}`, `users/${A}/${A_MULTIPART_KEY}`, `．．／${A}／${A_MULTIPART_KEY}`];
  for (const op of multipartOps) {
    for (const id of ids) {
      for (const key of keys) {
        add({
          name: `cannot ${op.operation} with ${id.label} and key ${key}`,
          operation: op.operation,
          method: op.method,
          path: () => pathOf(op.operation, { uploadId: encodeURIComponent(id.id()) }, op.query ? `key=${encodeURIComponent(key)}` : ''),
          ...(op.body ? { body: () => op.body!(key) } : {}),
          status: 404,
          code: 'NoSuchUpload',
        });
      }
    }
  }

  // ---- POST /uploads/sign (Uppy's signRequest mode): A's S3 key and upload id, spelled every way
  const A_UPPY_S3_KEY = `users/${A}/${A_UPPY_KEY}`;
  const uploadRequests: { label: string; body: (key: string) => Record<string, unknown> }[] = [
    { label: 'a part', body: (key) => ({ method: 'PUT', key, uploadId: aliceUppyUploadId, partNumber: 1, size: 9 * 1024 * 1024 }) },
    { label: 'the part list', body: (key) => ({ method: 'GET', key, uploadId: aliceUppyUploadId }) },
    { label: 'the completion', body: (key) => ({ method: 'POST', key, uploadId: aliceUppyUploadId, size: 9 * 1024 * 1024 }) },
    { label: 'the abort', body: (key) => ({ method: 'DELETE', key, uploadId: aliceUppyUploadId }) },
  ];
  for (const r of uploadRequests) {
    for (const key of [A_UPPY_S3_KEY, `users%2F${A}%2F${A_UPPY_KEY}`, `/${A_UPPY_S3_KEY}`, `users/${A}/../${B}/${A_UPPY_KEY}`, A_UPPY_KEY]) {
      add({
        name: `cannot have ${r.label} of A's upload signed with key ${key}`,
        operation: 'signS3Request',
        method: 'POST',
        path: () => pathOf('signS3Request', {}),
        body: () => r.body(key),
        status: 403,
        code: 'KeyOutsideArea',
      });
    }
    for (const s of A_KEY_TEXT_SPELLINGS.filter((x) => x.verdict === 'invalid')) {
      add({
        name: `cannot have ${r.label} signed for A's key spelled ${s.label} inside B's area`,
        operation: 'signS3Request',
        method: 'POST',
        path: () => pathOf('signS3Request', {}),
        body: () => r.body(`users/${B}/${s.key}`),
        status: 400,
        code: 'InvalidKey',
      });
    }
  }
  add({
    name: "cannot complete A's upload id under B's own key (S3 knows no such upload there)",
    operation: 'signS3Request',
    method: 'POST',
    path: () => pathOf('signS3Request', {}),
    body: () => ({ method: 'POST', key: `users/${B}/${A_UPPY_KEY}`, uploadId: aliceUppyUploadId, size: 9 * 1024 * 1024 }),
    status: 404,
    code: 'NoSuchUpload',
  });
  for (const method of ['PUT', 'POST']) {
    add({
      name: `signs a new object (${method}) named after A's S3 key in B's own area only`,
      operation: 'signS3Request',
      method: 'POST',
      path: () => pathOf('signS3Request', {}),
      body: () => ({ method, key: A_UPPY_S3_KEY, contentType: 'application/octet-stream', size: 9 * 1024 * 1024 }),
      status: 200,
      check: (json) => expect((json as { key: string }).key).toBe(`users/${B}/${A_UPPY_S3_KEY}`),
    });
    for (const s of A_KEY_TEXT_SPELLINGS.filter((x) => x.verdict === 'invalid')) {
      add({
        name: `cannot have a new object (${method}) signed at A's key spelled ${s.label}`,
        operation: 'signS3Request',
        method: 'POST',
        path: () => pathOf('signS3Request', {}),
        body: () => ({ method, key: s.key, contentType: 'application/octet-stream', size: 9 * 1024 * 1024 }),
        status: 400,
        code: 'InvalidKey',
      });
    }
  }
  return cases;
}

const CASES = buildCases();

beforeAll(async () => {
  started = await startService();
  const { service } = started;
  alice = new ApiUser(service.apiUrl, service.token(A));
  bob = new ApiUser(service.apiUrl, service.token(B));
  await alice.upload(A_KEY, Buffer.from('id,secret\n1,alpha\n2,beta\n'), 'text/csv');
  await alice.upload('secret/b.csv', Buffer.from('id\n3\n'), 'text/csv');
  // An unfinished multipart upload of alice's with one part in it.
  aliceSession = await alice.createMultipart(A_MULTIPART_KEY, 9 * 1024 * 1024, 'application/octet-stream');
  const urls = await alice.signParts(aliceSession, [1]);
  await putPresigned(urls.get(1)!, Buffer.alloc(aliceSession.partSize, 1), {});
  const page = await alice.expect('GET', '/buckets/uploads/objects?limit=1', 200);
  aliceCursor = (page.json as { nextCursor: string }).nextCursor;
  // An unfinished multipart upload of alice's, made as Uppy makes it: signed by us, sent to S3.
  const signed = (await alice.expect('POST', '/uploads/sign', 200, {
    method: 'POST',
    key: A_UPPY_KEY,
    contentType: 'application/octet-stream',
    size: 9 * 1024 * 1024,
  })).json as { url: string; headers: Record<string, string> };
  const created = await fetch(signed.url, { method: 'POST', headers: signed.headers });
  aliceUppyUploadId = /<UploadId>([^<]+)<\/UploadId>/.exec(await created.text())?.[1] ?? '';
  if (!aliceUppyUploadId) throw new Error(`S3 answered ${created.status} to alice's signed CreateMultipartUpload`);
  await service.processing.idle();
  if (!(await eventually(async () => (await call(service.apiUrl, 'GET', `/buckets/results/objects/${A_KEY}.profile.json`, { token: alice.token })).status === 200))) {
    throw new Error("alice's profile never appeared");
  }
  before = await snapshot(service);
});

afterAll(async () => {
  await started?.stop();
});

describe('isolation matrix', () => {
  it('has cases for every route in the route table', () => {
    const missing = ROUTES.filter((r) => !CASES.some((c) => c.operation === r.operation)).map((r) => `${r.method} ${r.resource}`);
    expect(missing).toEqual([]);
  });

  it.each(CASES.map((c) => [`${c.operation}: ${c.name}`, c] as const))('B %s', async (_, c) => {
    const token = c.token ? c.token() : bob.token;
    const res = await call(started.service.apiUrl, c.method, c.path(), {
      ...(token ? { token } : {}),
      ...(c.body ? { body: c.body() } : {}),
    });
    expect({ status: res.status, code: res.code }).toEqual({ status: c.status, code: c.code });
    expect(res.text).not.toContain('alpha');
    c.check?.(res.json);
  });

  it("leaves A's objects and profiles exactly as they were", async () => {
    await started.service.processing.idle();
    const after = (await snapshot(started.service)).filter((line) => !line.includes(`/users/${B}/`) && !line.startsWith(`uploads users/${B}/`) && !line.startsWith(`results users/${B}/`));
    expect(after).toEqual(before);
  });

  it("leaves A's object readable by A with its content", async () => {
    const res = await alice.expect('GET', `/buckets/uploads/objects/${encodeKey(A_KEY)}`, 200);
    expect(res.text).toBe('id,secret\n1,alpha\n2,beta\n');
  });

  it("leaves A's multipart upload open with its part", async () => {
    expect((await alice.listParts(aliceSession)).map((p) => p.partNumber)).toEqual([1]);
  });
});
