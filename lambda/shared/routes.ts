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

export function routesOf(fn: ApiFunctionName): Route[] {
  return ROUTES.filter((r) => r.fn === fn);
}
