/**
 * The API's one route table. The CDK API (lib/constructs/api.ts) creates a resource and method for
 * each row, and the local gateway (local/) matches requests against the same rows, so local and
 * deployed cannot drift. `fn` names the Lambda function that serves the route; `operation` names
 * what that function does for it. Every route is behind the Cognito authorizer (the infra tests check
 * the template for a method without one).
 */
export type ApiFunctionName = 'list' | 'read' | 'upload';
export type HttpMethod = 'GET' | 'HEAD' | 'POST' | 'PUT' | 'DELETE';

export interface Route {
  method: HttpMethod;
  /** API Gateway resource path; `{name}` is one segment, `{name+}` the greedy rest. */
  resource: string;
  fn: ApiFunctionName;
  operation: string;
}

export const ROUTES: readonly Route[] = [
  { method: 'GET', resource: '/buckets', fn: 'list', operation: 'listBuckets' },
  { method: 'GET', resource: '/buckets/{bucket}/objects', fn: 'list', operation: 'listObjects' },
  { method: 'GET', resource: '/buckets/{bucket}/objects/{key+}', fn: 'read', operation: 'getObject' },
  { method: 'HEAD', resource: '/buckets/{bucket}/objects/{key+}', fn: 'read', operation: 'headObject' },
  { method: 'DELETE', resource: '/buckets/{bucket}/objects/{key+}', fn: 'upload', operation: 'deleteObject' },
  { method: 'POST', resource: '/uploads', fn: 'upload', operation: 'createUpload' },
  // Uppy `@uppy/aws-s3` in its signRequest mode: one S3 request signed per call (core/sign-request.ts).
  { method: 'POST', resource: '/uploads/sign', fn: 'upload', operation: 'signS3Request' },
  { method: 'GET', resource: '/uploads/{uploadId}', fn: 'upload', operation: 'listParts' },
  { method: 'DELETE', resource: '/uploads/{uploadId}', fn: 'upload', operation: 'abortUpload' },
  { method: 'POST', resource: '/uploads/{uploadId}/parts', fn: 'upload', operation: 'signParts' },
  { method: 'POST', resource: '/uploads/{uploadId}/complete', fn: 'upload', operation: 'completeUpload' },
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

/** Literal segments of a resource: API Gateway prefers `/uploads/sign` to `/uploads/{uploadId}`. */
const literalSegments = (resource: string) => resource.split('/').filter((s) => s !== '' && !s.startsWith('{')).length;

/**
 * Matches a raw request path against the table. Returns the route for the method, or
 * `{ allowed }` listing the methods the path supports (405), or undefined (404). Where a path
 * matches more than one resource, the most literal one wins, as in API Gateway: `GET /uploads/sign`
 * is a 405 on `/uploads/sign`, not a look-up of an upload id "sign".
 */
export function matchRoute(method: string, path: string): RouteMatch | { allowed: HttpMethod[] } | undefined {
  const matching = COMPILED.map((c) => ({ ...c, m: c.regex.exec(path) })).filter((c) => c.m !== null);
  if (matching.length === 0) return undefined;
  const best = Math.max(...matching.map((c) => literalSegments(c.route.resource)));
  const candidates = matching.filter((c) => literalSegments(c.route.resource) === best);
  const found = candidates.find((c) => c.route.method === method);
  if (found) return { route: found.route, pathParameters: { ...(found.m!.groups ?? {}) } };
  return { allowed: candidates.map((c) => c.route.method) };
}

export function routesOf(fn: ApiFunctionName): Route[] {
  return ROUTES.filter((r) => r.fn === fn);
}
