/**
 * The API's OpenAPI 3.1 document, generated from the route table (lambda/shared/routes.ts) and the
 * contract (lambda/shared/api-contract.ts, whose schemas are api-schemas.ts). Used at build time:
 * the stack deploys it beside the web console (`OpenApiUrl` output), `npm run openapi` writes the
 * checked-in docs/openapi.json, and local mode serves it at `GET /openapi.json`. It imports no CDK,
 * so local mode can use it; it is not in any Lambda bundle.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { toJsonSchema, toJsonSchemaDefs, type JsonSchema } from '@valibot/to-json-schema';
import type { GenericSchema } from 'valibot';
import * as S from '../lambda/shared/api-schemas';
import * as R from '../lambda/shared/api-responses';
import { API_CONTRACT, type ResponseContract } from '../lambda/shared/api-contract';
import { ROUTES } from '../lambda/shared/routes';

/** Schemas that get a name under components/schemas; others are written inline. */
const NAMED = {
  Error: R.ErrorBody,
  BucketList: R.BucketList,
  BucketInfo: R.BucketInfo,
  ObjectInfo: R.ObjectInfo,
  ObjectPage: R.ObjectPage,
  SinglePutSession: R.SinglePutSession,
  MultipartSession: R.MultipartSession,
  SignedParts: R.SignedParts,
  UploadedPart: R.UploadedPart,
  UploadedParts: R.UploadedParts,
  CompletedUpload: R.CompletedUpload,
  SignedS3Request: R.SignedS3Request,
  RowsPage: R.RowsPage,
  ObjectUrl: R.ObjectUrl,
  CreateUploadRequest: S.CreateUploadBody,
  SignPartsRequest: S.SignPartsBody,
  CompleteUploadRequest: S.CompleteUploadBody,
  SignS3RequestBody: S.SignS3RequestBody,
} as const;

const conversion = {
  target: 'draft-2020-12',
  typeMode: 'input',
  definitions: NAMED,
  overrideRef: ({ referenceId }: { referenceId: string }) => `#/components/schemas/${referenceId}`,
} as const;

const NAME_OF = new Map<unknown, string>(Object.entries(NAMED).map(([name, schema]) => [schema, name]));

function schemaOf(schema: GenericSchema): JsonSchema {
  const name = NAME_OF.get(schema);
  if (name) return { $ref: `#/components/schemas/${name}` };
  const out = toJsonSchema(schema, conversion) as Record<string, unknown>;
  delete out.$schema;
  // toJsonSchema puts the definitions it used beside the root; the document has them once.
  delete out.$defs;
  return out as JsonSchema;
}

export interface OpenApiOptions {
  /** The API's base URL (`servers`); a relative `/` when not given. */
  serverUrl?: string;
  version?: string;
}

/** OpenAPI's `{key}` for API Gateway's greedy `{key+}`. */
const openApiPath = (resource: string) => resource.replace(/\{(\w+)\+\}/g, '{$1}');

function responseOf(status: number, r: ResponseContract, noBody: boolean): Record<string, unknown> {
  const out: Record<string, unknown> = { description: r.codes ? `${r.description}. Codes: ${r.codes.join(', ')}` : r.description };
  const headers = [
    ...Object.entries(r.headers ?? {}).map(([name, description]) => [name, { description, required: true, schema: { type: 'string' } }] as const),
    ...Object.entries(r.optionalHeaders ?? {}).map(([name, description]) => [name, { description, schema: { type: 'string' } }] as const),
  ];
  if (headers.length) out.headers = Object.fromEntries(headers);
  if (noBody) return out;
  if (status >= 400) {
    out.content = { 'application/json': { schema: { $ref: '#/components/schemas/Error' } } };
  } else if (r.body && 'mediaType' in r.body) {
    out.content = { [r.body.mediaType]: { schema: { type: 'string' } } };
  } else if (r.body) {
    const all = [r.body, ...(r.alternatives ?? [])].map(schemaOf);
    out.content = {
      'application/json': { schema: all.length === 1 ? all[0] : { oneOf: all } },
      ...(r.orBytes ? { [r.orBytes]: { schema: { type: 'string' } } } : {}),
    };
  }
  return out;
}

export function buildOpenApi(options: OpenApiOptions = {}): Record<string, unknown> {
  const paths: Record<string, Record<string, unknown>> = {};
  for (const route of ROUTES) {
    const c = API_CONTRACT[route.operation];
    if (!c) throw new Error(`Route ${route.method} ${route.resource} (${route.operation}) has no contract in api-contract.ts`);
    const parameters: unknown[] = [];
    for (const [name, description] of Object.entries(c.params ?? {})) {
      parameters.push({ name, in: 'path', required: true, description, schema: { type: 'string' } });
    }
    for (const [name, schema] of Object.entries(c.query?.entries ?? {})) {
      const s = schemaOf(schema) as { description?: string };
      const { description, ...rest } = s;
      // Optional query values are wrapped by valibot's optional(); the JSON Schema is the inner one.
      parameters.push({ name, in: 'query', required: schema.type !== 'optional', ...(description ? { description } : {}), schema: rest });
    }
    for (const [name, description] of Object.entries(c.requestHeaders ?? {})) {
      parameters.push({ name, in: 'header', required: false, description, schema: { type: 'string' } });
    }
    const responses: Record<string, unknown> = {};
    for (const [status, r] of Object.entries(c.responses)) {
      responses[status] = responseOf(Number(status), r!, c.noBody ?? false);
    }
    const operation: Record<string, unknown> = {
      operationId: route.operation,
      summary: c.summary,
      ...(c.description ? { description: c.description } : {}),
      tags: [route.fn],
      ...(parameters.length ? { parameters } : {}),
      ...(c.body
        ? {
            requestBody: {
              required: true,
              description: `JSON, at most ${c.body.maxBytes} bytes`,
              content: { 'application/json': { schema: schemaOf(c.body.schema) } },
            },
          }
        : {}),
      responses,
    };
    (paths[openApiPath(route.resource)] ??= {})[route.method.toLowerCase()] = operation;
  }
  const named = toJsonSchemaDefs(NAMED, { target: 'draft-2020-12', typeMode: 'input', overrideRef: conversion.overrideRef }) as Record<string, JsonSchema>;
  return {
    openapi: '3.1.0',
    info: {
      title: 'S3 File Service',
      version: options.version ?? '1',
      description: 'List, upload (presigned, multipart, resumable), read and profile files in S3. Errors are `{"error":{"code","message"}}`.',
    },
    servers: [{ url: options.serverUrl ?? '/' }],
    security: [{ bearer: [] }],
    paths,
    components: {
      securitySchemes: {
        bearer: {
          type: 'http',
          scheme: 'bearer',
          bearerFormat: 'JWT',
          description: 'A Cognito ID token (deployed) or a local token (`npm run token`), as `Authorization: Bearer <token>`',
        },
      },
      schemas: Object.fromEntries(
        Object.entries(named).map(([name, schema]) => {
          const { $schema: _omit, ...rest } = schema as Record<string, unknown>;
          return [name, rest];
        }),
      ),
    },
  };
}

/** The document as written to docs/openapi.json and served: two-space JSON and a final newline. */
export function openApiText(options: OpenApiOptions = {}): string {
  return `${JSON.stringify(buildOpenApi(options), null, 2)}\n`;
}

/** Where the checked-in copy lives; `npm run openapi` rewrites it, a test keeps it in sync. */
export const OPENAPI_FILE = join(__dirname, '..', 'docs', 'openapi.json');

if (require.main === module) {
  writeFileSync(OPENAPI_FILE, openApiText());
  console.log(`wrote ${OPENAPI_FILE}`);
}
