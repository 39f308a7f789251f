/**
 * Requests checked against their schema (api-schemas.ts) at the edge: a value that does not fit
 * becomes a 400 naming the field and the problem, with the field's error code (the codes callers
 * and tests already know: `InvalidKey`, `InvalidSize`, …), never a 5xx.
 */
import * as v from 'valibot';
import { BadRequestError } from './errors';

/**
 * What a failing field answers: its code, and optionally a fixed message (otherwise the field's
 * path and valibot's description of the problem). `items` is for an issue inside an array or
 * record field, such as one part of many.
 */
export interface FieldError {
  code: string;
  message?: string | ((issue: v.BaseIssue<unknown>) => string);
  items?: { code: string; message?: string | ((issue: v.BaseIssue<unknown>) => string) };
}

/**
 * The value as the schema's output type, or a BadRequestError for its first issue: the field's
 * code from `fields` (by the issue's top-level property), `fallbackCode` for anything else (the
 * value not being an object at all, say).
 */
export function parseInput<S extends v.GenericSchema>(
  schema: S,
  value: unknown,
  fields: Readonly<Record<string, FieldError>>,
  fallback: { code: string; message: string },
): v.InferOutput<S> {
  // valibot's object() takes an array as an object; JSON Schema (and so the document) does not.
  if (schema.type === 'object' && Array.isArray(value)) throw new BadRequestError(fallback.code, fallback.message);
  const result = v.safeParse(schema, value, { abortEarly: true });
  if (result.success) return result.output;
  const issue = result.issues[0];
  const path = issue.path ?? [];
  const field = path[0]?.key;
  const known = typeof field === 'string' && Object.hasOwn(fields, field) ? fields[field] : undefined;
  if (!known) throw new BadRequestError(fallback.code, fallback.message);
  const where = v.getDotPath(issue) ?? String(field);
  if (path.length > 1 && known.items) {
    const { code, message } = known.items;
    throw new BadRequestError(code, typeof message === 'function' ? message(issue) : (message ?? `${where}: ${issue.message}`));
  }
  const { code, message } = known;
  throw new BadRequestError(code, typeof message === 'function' ? message(issue) : (message ?? `${where}: ${issue.message}`));
}
