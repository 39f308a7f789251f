import { headObject, readObject, type PresignedGet, type ReadDeps } from '../core/read';
import type { ObjectUrl } from '../shared/api-types';
import { storedChecksumHeaders } from '../shared/upload-checksums';
import {
  acceptsJson,
  callerId,
  createApiHandler,
  getHeader,
  json,
  pathParam,
  redirect,
  type ApiEvent,
  type ApiResult,
} from '../shared/http';
import type { Logger } from '../shared/log';

import { parseReadQuery } from './inputs';

export type { ReadDeps, ReadRowsFn } from '../core/read';

function target(event: ApiEvent) {
  return { userId: callerId(event), bucket: pathParam(event, 'bucket', 'NoSuchBucket'), key: pathParam(event, 'key') };
}

/**
 * A presigned GET as the caller asked for it: `307` with `Location` by default, or (`Accept:
 * application/json`) the URL as JSON, for clients that cannot follow the redirect: a `fetch()`
 * redirected across origins sends `Origin: null`, which S3's CORS refuses; Python's urllib sends
 * the bearer token on to S3, which refuses a request with two kinds of credentials. `no-store`
 * either way: the URL is a credential until it expires.
 */
function presigned(target: PresignedGet, asJson: boolean): ApiResult {
  if (!asJson) return redirect(target.url);
  const body: ObjectUrl = {
    url: target.url,
    expiresAt: target.expiresAt,
    size: target.object.size,
    contentType: target.object.contentType,
    etag: target.object.etag,
    ...(target.object.checksum ? { checksum: target.object.checksum } : {}),
  };
  return json(200, body, { 'cache-control': 'no-store' });
}

/** GET and HEAD of /buckets/{bucket}/objects/{key+}. Request lines go to `log` (Lambda's console by default). */
export function createReadHandler(deps: ReadDeps, log?: Logger) {
  return createApiHandler(
    'read',
    {
      getObject: async (event: ApiEvent): Promise<ApiResult> => {
        const where = target(event);
        const query = parseReadQuery(event);
        const range = getHeader(event, 'range');
        const ifNoneMatch = getHeader(event, 'if-none-match');
        const asJson = acceptsJson(getHeader(event, 'accept'));
        const result = await readObject(deps, {
          ...where,
          ...query,
          ...(range ? { range } : {}),
          ...(ifNoneMatch ? { ifNoneMatch } : {}),
        });
        switch (result.kind) {
          case 'response':
            return result.response;
          case 'redirect':
            return presigned(result.target, asJson);
          case 'notModified':
            return { statusCode: 304, headers: result.headers, body: '' };
        }
      },
      headObject: async (event: ApiEvent): Promise<ApiResult> => {
        const meta = await headObject(deps, target(event));
        return {
          statusCode: 200,
          headers: {
            'content-length': String(meta.size),
            'content-type': meta.contentType,
            etag: meta.etag,
            'last-modified': meta.lastModified,
            ...storedChecksumHeaders(meta.checksum),
          },
          body: '',
        };
      },
    },
    deps.config.allowedOrigins,
    undefined,
    log,
  );
}
