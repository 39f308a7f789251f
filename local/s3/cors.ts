/**
 * Bucket CORS as S3 applies it: the first rule whose AllowedOrigins (one `*` wildcard each) and
 * AllowedMethods match the request, and for a preflight whose AllowedHeaders cover every requested
 * header, decides the response headers. No matching rule: preflights are refused (403) and actual
 * requests get no CORS headers, so the browser withholds the response.
 */
import type { CORSRule } from '@aws-sdk/client-s3';
import { BUCKET_EXPOSED_HEADERS } from '../../lambda/shared/cors';

export type CorsRule = Pick<CORSRule, 'AllowedOrigins' | 'AllowedMethods' | 'AllowedHeaders' | 'ExposeHeaders' | 'MaxAgeSeconds'>;

function matches(pattern: string, value: string, caseInsensitive = false): boolean {
  const star = pattern.indexOf('*');
  const [p, v] = caseInsensitive ? [pattern.toLowerCase(), value.toLowerCase()] : [pattern, value];
  if (star < 0) return p === v;
  return v.length >= p.length - 1 && v.startsWith(p.slice(0, star)) && v.endsWith(p.slice(star + 1));
}

function ruleFor(rules: readonly CorsRule[], origin: string, method: string, headers: readonly string[]): CorsRule | undefined {
  return rules.find(
    (r) =>
      (r.AllowedOrigins ?? []).some((o) => matches(o, origin)) &&
      (r.AllowedMethods ?? []).includes(method) &&
      headers.every((h) => (r.AllowedHeaders ?? []).some((a) => matches(a, h, true))),
  );
}

function originHeaders(rule: CorsRule, origin: string): Record<string, string> {
  const any = (rule.AllowedOrigins ?? []).includes('*');
  return {
    'access-control-allow-origin': any ? '*' : origin,
    ...(any ? {} : { 'access-control-allow-credentials': 'true' }),
    ...(rule.ExposeHeaders?.length ? { 'access-control-expose-headers': rule.ExposeHeaders.join(', ') } : {}),
    vary: 'Origin, Access-Control-Request-Headers, Access-Control-Request-Method',
  };
}

/** Headers for a preflight, or undefined when no rule allows it (403). */
export function preflight(rules: readonly CorsRule[], origin: string, method: string, requestHeaders: string): Record<string, string> | undefined {
  const headers = requestHeaders
    .split(',')
    .map((h) => h.trim())
    .filter(Boolean);
  const rule = ruleFor(rules, origin, method, headers);
  if (!rule) return undefined;
  return {
    ...originHeaders(rule, origin),
    'access-control-allow-methods': (rule.AllowedMethods ?? []).join(', '),
    ...(headers.length ? { 'access-control-allow-headers': headers.join(', ') } : {}),
    ...(rule.MaxAgeSeconds !== undefined ? { 'access-control-max-age': String(rule.MaxAgeSeconds) } : {}),
  };
}

/** CORS headers for an actual request from `origin`; empty when no rule matches. */
export function corsResponseHeaders(rules: readonly CorsRule[], origin: string | undefined, method: string): Record<string, string> {
  if (!origin) return {};
  const rule = ruleFor(rules, origin, method, []);
  return rule ? originHeaders(rule, origin) : {};
}

/**
 * The CORS rule local mode gives its buckets (exposing the same headers as the stack's buckets);
 * `*` in an origin matches any port. Given to the embedded server directly, to an external one with
 * PutBucketCors (local/service.ts).
 */
export function bucketCorsRule(origins: readonly string[]): CorsRule {
  return { AllowedOrigins: [...origins], AllowedMethods: ['GET', 'PUT', 'HEAD', 'POST'], AllowedHeaders: ['*'], ExposeHeaders: [...BUCKET_EXPOSED_HEADERS], MaxAgeSeconds: 3000 };
}
