import { listBuckets, listObjects, type ListDeps } from '../core/list';
import { callerId, createApiHandler, json, pathParam, type ApiEvent } from '../shared/http';
import { parseListQuery } from './inputs';
import type { Logger } from '../shared/log';

export type { ListDeps };

/** GET /buckets and GET /buckets/{bucket}/objects. Request lines go to `log` (Lambda's console by default). */
export function createListHandler(deps: ListDeps, log?: Logger) {
  return createApiHandler(
    'list',
    {
      listBuckets: async (event: ApiEvent) => {
        callerId(event);
        return json(200, listBuckets());
      },
      listObjects: async (event: ApiEvent) => {
        const userId = callerId(event);
        const result = await listObjects(deps, {
          userId,
          bucket: pathParam(event, 'bucket', 'NoSuchBucket'),
          ...parseListQuery(event),
        });
        return json(200, result);
      },
    },
    deps.config.allowedOrigins,
    deps.keys,
    log,
  );
}
