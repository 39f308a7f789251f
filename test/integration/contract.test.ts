import { randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Ajv2020, { type ValidateFunction } from 'ajv/dist/2020';
import { buildOpenApi } from '../../lib/openapi';
import { ROUTES } from '../../lambda/shared/routes';
import { startLocalService, type LocalService } from '../../local/service';
import { validateOpenApi } from '../openapi-validator';

/**
 * The contract test: real HTTP against local mode (gateway, functions, embedded S3), each answer
 * checked against the OpenAPI document the service serves at /openapi.json: the status must be one
 * the operation documents, a JSON body must match that status's schema, and the headers the
 * document says are always sent must be there. Every route of the route table must have a success
 * case and an error case, or the last test fails naming it.
 */
jest.setTimeout(120_000);

interface HeaderDoc {
  required?: boolean;
}
interface ResponseDoc {
  headers?: Record<string, HeaderDoc>;
  content?: Record<string, { schema: object }>;
}
interface OperationDoc {
  operationId: string;
  responses: Record<string, ResponseDoc>;
}
type Document = { paths: Record<string, Record<string, OperationDoc>>; components: { schemas: Record<string, object> } };

const MiB = 1024 * 1024;
const THRESHOLD = 8 * MiB;
const MAX_UPLOAD = 64 * MiB;

describe('the API against its OpenAPI document (local mode)', () => {
  let dir: string;
  let service: LocalService;
  let document: Document;
  let token: string;
  const ajv = new Ajv2020({ strict: false, allErrors: true });
  const validators = new Map<string, ValidateFunction>();
  /** operationId → statuses seen. */
  const covered = new Map<string, Set<number>>();
  const operations = new Map<string, { path: string; method: string; doc: OperationDoc }>();

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 's3fs-contract-'));
    service = await startLocalService({
      dataDir: dir,
      port: 0,
      s3Port: 0,
      env: { MULTIPART_THRESHOLD_BYTES: String(THRESHOLD), MAX_UPLOAD_BYTES: String(MAX_UPLOAD) },
    });
    token = service.token(randomUUID());
    const res = await fetch(`${service.apiUrl}/openapi.json`);
    expect(res.status).toBe(200);
    document = (await res.json()) as Document;
    ajv.addSchema({ $id: 'openapi', components: document.components });
    for (const [path, methods] of Object.entries(document.paths)) {
      for (const [method, doc] of Object.entries(methods)) operations.set(doc.operationId, { path, method, doc });
    }
  });
  afterAll(async () => {
    await service?.stop();
    await rm(dir, { recursive: true, force: true });
  });

  /** A schema of the document, with its component references resolved against it. */
  function validatorFor(key: string, schema: object): ValidateFunction {
    let validate = validators.get(key);
    if (!validate) {
      const text = JSON.stringify(schema).replaceAll('"#/components/', '"openapi#/components/');
      validate = ajv.compile(JSON.parse(text) as object);
      validators.set(key, validate);
    }
    return validate;
  }

  /** Checks one real answer against the document; returns the parsed JSON body, if any. */
  async function conforms(operationId: string, res: Response): Promise<unknown> {
    const op = operations.get(operationId);
    if (!op) throw new Error(`The document has no operation ${operationId}`);
    const documented = op.doc.responses[String(res.status)];
    const text = await res.text();
    if (!documented) throw new Error(`${operationId} answered ${res.status}, which the document does not list (body: ${text.slice(0, 300)})`);
    (covered.get(operationId) ?? covered.set(operationId, new Set()).get(operationId)!).add(res.status);
    for (const [name, header] of Object.entries(documented.headers ?? {})) {
      if (header.required) expect([operationId, res.status, name, res.headers.get(name) !== null]).toEqual([operationId, res.status, name, true]);
    }
    if (!documented.content) {
      expect([operationId, res.status, text]).toEqual([operationId, res.status, '']);
      return undefined;
    }
    const type = res.headers.get('content-type') ?? '';
    const json = /^application\/json\b/.test(type) ? documented.content['application/json'] : undefined;
    if (!json) {
      // The object's own bytes: its type must be one of the media ranges the document gives.
      const ranges = Object.keys(documented.content).filter((r) => r !== 'application/json');
      const essence = type.split(';')[0]!.trim();
      expect([operationId, res.status, ranges.some((r) => r === essence || (r.endsWith('/*') && essence.startsWith(r.slice(0, -1))))]).toEqual([operationId, res.status, true]);
      return text;
    }
    const body = JSON.parse(text) as unknown;
    const validate = validatorFor(`${operationId} ${res.status}`, json.schema);
    if (!validate(body)) {
      throw new Error(`${operationId} ${res.status}: the body does not match the document: ${ajv.errorsText(validate.errors)}\n${text.slice(0, 500)}`);
    }
    return body;
  }

  const api = (path: string, init: RequestInit & { token?: string | null } = {}) => {
    const { token: t = token, ...rest } = init;
    const headers = new Headers(rest.headers);
    if (t) headers.set('authorization', `Bearer ${t}`);
    return fetch(`${service.apiUrl}${path}`, { ...rest, headers, redirect: 'manual' });
  };
  const post = (path: string, body: unknown) =>
    api(path, { method: 'POST', headers: { 'content-type': 'application/json' }, body: typeof body === 'string' ? body : JSON.stringify(body) });

  async function putSmall(key: string, content: string, contentType = 'text/csv'): Promise<void> {
    const session = (await conforms('createUpload', await post('/uploads', { key, contentType, size: Buffer.byteLength(content) }))) as {
      url: string;
      headers: Record<string, string>;
    };
    expect((await fetch(session.url, { method: 'PUT', headers: session.headers, body: content })).status).toBe(200);
  }

  it('serves a document that validates as OpenAPI 3.1 and is the one the code generates', async () => {
    expect(validateOpenApi(document)).toEqual({ valid: true });
    expect(document).toEqual(buildOpenApi({ serverUrl: service.apiUrl }));
  });

  it('answers 401 with the error body on every route without a token', async () => {
    for (const route of ROUTES) {
      const path = route.resource.replace('{bucket}', 'uploads').replace('{key+}', 'a.csv').replace('{uploadId}', 'x');
      await conforms(route.operation, await api(path, { method: route.method, token: null }));
    }
  });

  it('lists buckets and objects, and refuses a bad limit and an unknown bucket', async () => {
    await putSmall('contract/list/a.csv', 'a,b\n1,2\n');
    await conforms('listBuckets', await api('/buckets'));
    const page = (await conforms('listObjects', await api('/buckets/uploads/objects?prefix=contract/list/&delimiter=/&limit=10'))) as { objects: unknown[] };
    expect(page.objects).toHaveLength(1);
    await conforms('listObjects', await api('/buckets/uploads/objects?limit=0'));
    await conforms('listObjects', await api('/buckets/uploads/objects?delimiter=x'));
    await conforms('listObjects', await api('/buckets/nope/objects'));
  });

  it('reads inline, by range, as rows, as a redirect or its URL, and answers 304, 400, 404 and 416', async () => {
    const key = 'contract/read/people.csv';
    await putSmall(key, 'name,age\nada,36\nbob,41\n');
    const path = `/buckets/uploads/objects/${key}`;
    const inline = await api(path);
    const etag = inline.headers.get('etag');
    await conforms('getObject', inline);
    await conforms('getObject', await api(path, { headers: { range: 'bytes=0-3' } }));
    await conforms('getObject', await api(path, { headers: { 'if-none-match': etag ?? '' } }));
    await conforms('getObject', await api(`${path}?download=1`));
    await conforms('getObject', await api(`${path}?download=1`, { headers: { accept: 'application/json' } }));
    await conforms('getObject', await api(`${path}?rows=0:2&columns=name`));
    await conforms('getObject', await api(`${path}?rows=x`));
    await conforms('getObject', await api(path, { headers: { range: 'bytes=1000-' } }));
    await conforms('getObject', await api('/buckets/uploads/objects/contract/read/missing.csv'));
    await conforms('headObject', await api(path, { method: 'HEAD' }));
    await conforms('headObject', await api('/buckets/uploads/objects/contract/read/missing.csv', { method: 'HEAD' }));
    expect([...covered.get('getObject')!]).toEqual(expect.arrayContaining([200, 206, 304, 307, 400, 404, 416]));
  });

  it('creates uploads and refuses bodies that do not fit, naming the field', async () => {
    await conforms('createUpload', await post('/uploads', { key: 'contract/c/small.txt', contentType: 'text/plain', size: 3 }));
    const multipart = (await conforms('createUpload', await post('/uploads', { key: 'contract/c/big.bin', contentType: 'application/octet-stream', size: THRESHOLD + 1 }))) as {
      uploadId: string;
    };
    expect(typeof multipart.uploadId).toBe('string');
    const bad = (await conforms('createUpload', await post('/uploads', { key: 'contract/c/x', contentType: 'text/plain', size: '3' }))) as { error: { code: string } };
    expect(bad.error.code).toBe('InvalidSize');
    await conforms('createUpload', await post('/uploads', [1, 2]));
    await conforms('createUpload', await post('/uploads', '{not json'));
    await conforms('createUpload', await post('/uploads', { key: 'contract/c/x', contentType: 'text plain', size: 3 }));
    const tooBig = (await conforms('createUpload', await post('/uploads', { key: 'contract/c/x', contentType: 'text/plain', size: MAX_UPLOAD + 1 }))) as {
      error: { code: string };
    };
    expect(tooBig.error.code).toBe('EntityTooLarge');
    // The fields the checksums work adds are accepted, not refused.
    await conforms('createUpload', await post('/uploads', { key: 'contract/c/sum.txt', contentType: 'text/plain', size: 3, checksum: { algorithm: 'CRC32', value: 'AAAAAA==' } }));
  });

  it('runs a multipart upload through signParts, listParts and completeUpload, with their errors', async () => {
    const key = 'contract/m/big.bin';
    const size = THRESHOLD + 10;
    const session = (await conforms('createUpload', await post('/uploads', { key, contentType: 'application/octet-stream', size }))) as {
      uploadId: string;
      partSize: number;
    };
    const id = encodeURIComponent(session.uploadId);
    await conforms('completeUpload', await post(`/uploads/${id}/complete`, { key })); // 409 IncompleteUpload
    await conforms('signParts', await post(`/uploads/${id}/parts`, { key, partNumbers: [] }));
    await conforms('signParts', await post('/uploads/not-an-upload/parts', { key, partNumbers: [1] }));
    const signed = (await conforms('signParts', await post(`/uploads/${id}/parts`, { key, partNumbers: [1, 2] }))) as { parts: { partNumber: number; url: string }[] };
    for (const part of signed.parts) {
      const bytes = part.partNumber === 1 ? session.partSize : size - session.partSize;
      expect((await fetch(part.url, { method: 'PUT', body: new Uint8Array(bytes) })).status).toBe(200);
    }
    await conforms('listParts', await api(`/uploads/${id}?key=${encodeURIComponent(key)}`));
    await conforms('listParts', await api(`/uploads/${id}?key=other.bin`));
    await conforms('listParts', await api(`/uploads/not-an-upload?key=${encodeURIComponent(key)}`));
    await conforms('completeUpload', await post(`/uploads/${id}/complete`, { key, parts: [], partsSha256: 'x' }));
    await conforms('completeUpload', await post('/uploads/not-an-upload/complete', { key }));
    const done = (await conforms('completeUpload', await post(`/uploads/${id}/complete`, { key }))) as { size: number };
    expect(done.size).toBe(size);
    expect([...covered.get('completeUpload')!]).toEqual(expect.arrayContaining([200, 400, 404, 409]));
  });

  it('aborts an upload, and refuses a missing key and an unknown upload', async () => {
    const key = 'contract/a/big.bin';
    const session = (await conforms('createUpload', await post('/uploads', { key, contentType: 'application/octet-stream', size: THRESHOLD + 1 }))) as { uploadId: string };
    const id = encodeURIComponent(session.uploadId);
    await conforms('abortUpload', await api(`/uploads/${id}`, { method: 'DELETE' }));
    await conforms('abortUpload', await api('/uploads/not-an-upload?key=x', { method: 'DELETE' }));
    await conforms('abortUpload', await api(`/uploads/${id}?key=${encodeURIComponent(key)}`, { method: 'DELETE' }));
  });

  it('signs S3 requests for Uppy, and refuses an unknown method and a key outside the caller\'s area', async () => {
    const signed = (await conforms('signS3Request', await post('/uploads/sign', { method: 'PUT', key: 'contract/s/a.txt', size: 3, contentType: 'text/plain' }))) as {
      url: string;
    };
    expect(signed.url).toMatch(/^http/);
    await conforms('signS3Request', await post('/uploads/sign', { method: 'PATCH', key: 'contract/s/a.txt' }));
    await conforms('signS3Request', await post('/uploads/sign', { method: 'GET', key: 'users/someone-else/a.txt', uploadId: 'abc' }));
  });

  it('deletes an object, and refuses the read-only bucket and a bad key', async () => {
    await putSmall('contract/d/a.csv', 'x\n1\n');
    await conforms('deleteObject', await api('/buckets/uploads/objects/contract/d/a.csv', { method: 'DELETE' }));
    await conforms('deleteObject', await api('/buckets/results/objects/contract/d/a.csv', { method: 'DELETE' }));
    await conforms('deleteObject', await api('/buckets/uploads/objects/contract/d/%01bad', { method: 'DELETE' }));
    await conforms('deleteObject', await api('/buckets/nope/objects/contract/d/a.csv', { method: 'DELETE' }));
  });

  it('covered every route of the route table with a success and an error, and each error status the API uses', () => {
    const missing = ROUTES.filter((r) => {
      const seen = [...(covered.get(r.operation) ?? [])];
      return !seen.some((s) => s < 400) || !seen.some((s) => s >= 400);
    }).map((r) => `${r.method} ${r.resource}`);
    expect(missing).toEqual([]);
    const statuses = new Set([...covered.values()].flatMap((s) => [...s]));
    for (const status of [400, 401, 403, 404, 409, 413, 416]) expect([status, statuses.has(status)]).toEqual([status, true]);
  });
});
