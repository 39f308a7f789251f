/**
 * What the integration suites do through the API as any client does: a path for an object, and a
 * small object stored by its presigned PUT (the session the API opens for one request).
 */
import { encodeKey } from '../../../client/api-client';

/** `/buckets/<bucket>/objects/<key>`, the key encoded per segment as the CLI and console encode it. */
export const objectPath = (bucket: 'uploads' | 'results', key: string): string => `/buckets/${bucket}/objects/${encodeKey(key)}`;

/** Stores `body` at `key` through POST /uploads and the presigned PUT it answers; fails the test on any other answer. */
export async function putThroughApi(apiUrl: string, token: string, key: string, body: Buffer | string, contentType: string): Promise<void> {
  const bytes = typeof body === 'string' ? Buffer.from(body, 'utf8') : body;
  const created = await fetch(`${apiUrl}/uploads`, {
    method: 'POST',
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    body: JSON.stringify({ key, contentType, size: bytes.length }),
  });
  expect(created.status).toBe(201);
  const session = (await created.json()) as { url: string; headers: Record<string, string> };
  const put = await fetch(session.url, { method: 'PUT', headers: session.headers, body: new Uint8Array(bytes) });
  expect(put.status).toBe(200);
}
