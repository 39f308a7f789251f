/**
 * The API's one route table. The CDK API (lib/constructs/api.ts) creates a resource and method for
 * each row, and the local gateway (local/) matches requests against the same rows, so local and
 * deployed cannot drift. `fn` names the Lambda function that serves the route; `operation` names
 * what that function does for it.
 */
export type ApiFunctionName = 'list' | 'read' | 'upload';
export type HttpMethod = 'GET' | 'HEAD' | 'POST' | 'PUT' | 'DELETE';

export interface Route {
  method: HttpMethod;
  /** API Gateway resource path; `{name}` is one segment, `{name+}` the greedy rest. */
  resource: string;
  fn: ApiFunctionName;
  operation: string;
  /**
   * `'none'`: no bearer token; the function checks a credential carried in the path itself. Only
   * for the Uppy Companion routes, because Uppy sends no Authorization header in that mode.
   */
  authorizer?: 'none';
}

export const ROUTES: readonly Route[] = [
  { method: 'GET', resource: '/buckets', fn: 'list', operation: 'listBuckets' },
  { method: 'GET', resource: '/buckets/{bucket}/objects', fn: 'list', operation: 'listObjects' },
  { method: 'GET', resource: '/buckets/{bucket}/objects/{key+}', fn: 'read', operation: 'getObject' },
  { method: 'HEAD', resource: '/buckets/{bucket}/objects/{key+}', fn: 'read', operation: 'headObject' },
  { method: 'DELETE', resource: '/buckets/{bucket}/objects/{key+}', fn: 'upload', operation: 'deleteObject' },
  { method: 'POST', resource: '/uploads', fn: 'upload', operation: 'createUpload' },
  { method: 'GET', resource: '/uploads/{uploadId}', fn: 'upload', operation: 'listParts' },
  { method: 'DELETE', resource: '/uploads/{uploadId}', fn: 'upload', operation: 'abortUpload' },
  { method: 'POST', resource: '/uploads/{uploadId}/parts', fn: 'upload', operation: 'signParts' },
  { method: 'POST', resource: '/uploads/{uploadId}/complete', fn: 'upload', operation: 'completeUpload' },
  // Uppy `@uppy/aws-s3` with `companionEndpoint: <api>/uppy/<grant>` (lambda/core/companion.ts).
  { method: 'POST', resource: '/uppy/grants', fn: 'upload', operation: 'createUppyGrant' },
  { method: 'POST', resource: '/uppy/{grant}/s3/multipart', fn: 'upload', operation: 'uppyCreateMultipart', authorizer: 'none' },
  { method: 'GET', resource: '/uppy/{grant}/s3/multipart/{uploadId}', fn: 'upload', operation: 'uppyListParts', authorizer: 'none' },
  { method: 'DELETE', resource: '/uppy/{grant}/s3/multipart/{uploadId}', fn: 'upload', operation: 'uppyAbortMultipart', authorizer: 'none' },
  { method: 'GET', resource: '/uppy/{grant}/s3/multipart/{uploadId}/{partNumber}', fn: 'upload', operation: 'uppySignPart', authorizer: 'none' },
  { method: 'POST', resource: '/uppy/{grant}/s3/multipart/{uploadId}/complete', fn: 'upload', operation: 'uppyCompleteMultipart', authorizer: 'none' },
];

export interface RouteMatch {
  route: Route;
  /** Raw (still percent-encoded) path parameters, as API Gateway REST APIs deliver them. */
  pathParameters: Record<string, string>;
}

function compile(resource: string): RegExp {
  const pattern = resource
    .split('/')
    .map((segment) => {
      const greedy = /^\{(\w+)\+\}$/.exec(segment);
      if (greedy) return `(?<${greedy[1]}>.+)`;
      const param = /^\{(\w+)\}$/.exec(segment);
      if (param) return `(?<${param[1]}>[^/]+)`;
      return segment.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
    })
    .join('/');
  return new RegExp(`^${pattern}$`);
}

const COMPILED = ROUTES.map((route) => ({ route, regex: compile(route.resource) }));

/**
 * Matches a raw request path against the table. Returns the route for the method, or
 * `{ allowed }` listing the methods the path supports (405), or undefined (404).
 */
export function matchRoute(method: string, path: string): RouteMatch | { allowed: HttpMethod[] } | undefined {
  const allowed: HttpMethod[] = [];
  for (const { route, regex } of COMPILED) {
    const m = regex.exec(path);
    if (!m) continue;
    if (route.method === method) return { route, pathParameters: { ...(m.groups ?? {}) } };
    allowed.push(route.method);
  }
  return allowed.length ? { allowed } : undefined;
}

export function routesOf(fn: ApiFunctionName): Route[] {
  return ROUTES.filter((r) => r.fn === fn);
}
