import { headObject, readObject, type ReadDeps } from '../core/read';
import { callerId, createApiHandler, getHeader, pathParam, queryParam, redirect, type ApiEvent, type ApiResult } from '../shared/http';

export type { ReadDeps, ReadRowsFn } from '../core/read';

function target(event: ApiEvent) {
  return { userId: callerId(event), bucket: pathParam(event, 'bucket', 'NoSuchBucket'), key: pathParam(event, 'key') };
}

/** GET and HEAD of /buckets/{bucket}/objects/{key+}. */
export function createReadHandler(deps: ReadDeps) {
  return createApiHandler(
    'read',
    {
      getObject: async (event: ApiEvent): Promise<ApiResult> => {
        const download = queryParam(event, 'download');
        const range = getHeader(event, 'range');
        const ifNoneMatch = getHeader(event, 'if-none-match');
        const rows = queryParam(event, 'rows');
        const columns = queryParam(event, 'columns');
        const result = await readObject(deps, {
          ...target(event),
          download: download === '1' || download === 'true',
          ...(range ? { range } : {}),
          ...(ifNoneMatch ? { ifNoneMatch } : {}),
          ...(rows !== undefined ? { rows } : {}),
          ...(columns !== undefined ? { columns } : {}),
        });
        switch (result.kind) {
          case 'response':
            return result.response;
          case 'redirect':
            return redirect(result.target.url);
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
          },
          body: '',
        };
      },
    },
    deps.config.allowedOrigins,
  );
}
