/**
 * Matching a request path against the route table, as API Gateway does: for the local gateway
 * only. The deployed API is built from the same table by the CDK (lib/constructs/api.ts), so the
 * functions never match paths themselves, and their bundles carry none of this.
 */
import { ROUTES, type HttpMethod, type Route } from '../lambda/shared/routes';

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
