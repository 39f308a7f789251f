/**
 * IAM policy evaluation for the embedded S3, enough for the statements the stack grants
 * (lambda/shared/grants.ts): actions and resource ARNs with `*` and `?` wildcards, Allow and Deny,
 * and the string condition operators. As in IAM, an explicit Deny wins, then any Allow, and
 * anything else is an implicit deny. Unsupported condition operators are refused when a policy is
 * loaded, so a policy can never be read more permissively than AWS would read it.
 */

export interface PolicyStatement {
  /** Allow unless said otherwise. */
  effect?: 'Allow' | 'Deny';
  actions: readonly string[];
  resources: readonly string[];
  /** `{ StringLike: { 's3:prefix': ['users/*'] } }` */
  conditions?: Readonly<Record<string, Readonly<Record<string, readonly string[]>>>>;
}

/** What a request asks for: one action on one resource, with the request's condition keys. */
export interface Authorization {
  action: string;
  resource: string;
  /** Condition keys of the request (`s3:prefix` for a listing); absent keys are not in the map. */
  context?: Readonly<Record<string, string>>;
}

const OPERATORS = ['StringEquals', 'StringNotEquals', 'StringLike', 'StringNotLike'] as const;
type Operator = (typeof OPERATORS)[number];

export class PolicyError extends Error {}

/** Throws PolicyError for anything this evaluator would not read the way IAM does. */
export function validatePolicy(statements: readonly PolicyStatement[]): void {
  for (const s of statements) {
    if (s.actions.length === 0 || s.resources.length === 0) throw new PolicyError('A statement needs actions and resources');
    for (const op of Object.keys(s.conditions ?? {})) {
      if (!(OPERATORS as readonly string[]).includes(op)) throw new PolicyError(`Unsupported condition operator ${op}`);
    }
  }
}

const patterns = new Map<string, RegExp>();

/** IAM wildcards: `*` any run of characters (slashes included), `?` exactly one. */
function wildcard(pattern: string, caseInsensitive: boolean): RegExp {
  const id = `${caseInsensitive ? 'i' : 's'}${pattern}`;
  let re = patterns.get(id);
  if (!re) {
    const body = pattern.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.');
    re = new RegExp(`^${body}$`, caseInsensitive ? 'is' : 's');
    patterns.set(id, re);
  }
  return re;
}

function conditionHolds(op: Operator, values: readonly string[], actual: string | undefined): boolean {
  switch (op) {
    case 'StringEquals':
      return actual !== undefined && values.includes(actual);
    case 'StringNotEquals':
      return actual === undefined || !values.includes(actual);
    case 'StringLike':
      return actual !== undefined && values.some((v) => wildcard(v, false).test(actual));
    case 'StringNotLike':
      return actual === undefined || !values.some((v) => wildcard(v, false).test(actual));
  }
}

function applies(statement: PolicyStatement, request: Authorization): boolean {
  if (!statement.actions.some((a) => wildcard(a, true).test(request.action))) return false;
  if (!statement.resources.some((r) => wildcard(r, false).test(request.resource))) return false;
  for (const [op, keys] of Object.entries(statement.conditions ?? {})) {
    for (const [key, values] of Object.entries(keys)) {
      if (!conditionHolds(op as Operator, values, request.context?.[key])) return false;
    }
  }
  return true;
}

export function isAllowed(statements: readonly PolicyStatement[], request: Authorization): boolean {
  let allowed = false;
  for (const s of statements) {
    if (!applies(s, request)) continue;
    if (s.effect === 'Deny') return false;
    allowed = true;
  }
  return allowed;
}

export const bucketArn = (bucket: string) => `arn:aws:s3:::${bucket}`;
export const objectArn = (bucket: string, key: string) => `arn:aws:s3:::${bucket}/${key}`;
