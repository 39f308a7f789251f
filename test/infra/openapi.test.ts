import { readFileSync } from 'node:fs';
import { buildOpenApi, OPENAPI_FILE, openApiText } from '../../lib/openapi';
import { API_CONTRACT } from '../../lambda/shared/api-contract';
import { ROUTES } from '../../lambda/shared/routes';
import { validateOpenApi } from '../openapi-validator';

describe('the OpenAPI document', () => {
  it('is what the checked-in docs/openapi.json holds (run `npm run openapi` after changing the contract)', () => {
    expect(readFileSync(OPENAPI_FILE, 'utf8')).toBe(openApiText());
  });

  it('validates as OpenAPI 3.1 with @seriousme/openapi-schema-validator', () => {
    const document = buildOpenApi();
    expect(document.openapi).toBe('3.1.0');
    expect(validateOpenApi(document)).toEqual({ valid: true });
  });

  it('is refused by the same validator when it is broken, so the check above can fail', () => {
    const broken = buildOpenApi() as { paths: Record<string, Record<string, { parameters?: unknown[] }>> };
    broken.paths['/buckets/{bucket}/objects']!.get!.parameters!.push({ name: 'limit', in: 'body' }); // no such location
    expect(validateOpenApi(broken).valid).toBe(false);
  });

  it('has an operation for every route of the route table, under its operationId', () => {
    const paths = buildOpenApi().paths as Record<string, Record<string, { operationId: string }>>;
    for (const route of ROUTES) {
      const path = route.resource.replace('{key+}', '{key}');
      expect(paths[path]?.[route.method.toLowerCase()]?.operationId).toBe(route.operation);
    }
  });

  it('describes every error status with the JSON error body, and every route needs the bearer token', () => {
    const document = buildOpenApi() as {
      security: unknown;
      paths: Record<string, Record<string, { responses: Record<string, { content?: Record<string, { schema: unknown }> }> }>>;
    };
    expect(document.security).toEqual([{ bearer: [] }]);
    for (const [path, methods] of Object.entries(document.paths)) {
      for (const [method, op] of Object.entries(methods)) {
        expect([path, method, Object.keys(op.responses)]).toEqual([path, method, expect.arrayContaining(['401'])]);
        for (const [status, response] of Object.entries(op.responses)) {
          if (Number(status) < 400 || method === 'head') continue;
          expect([path, method, status, response.content?.['application/json']?.schema]).toEqual([path, method, status, { $ref: '#/components/schemas/Error' }]);
        }
      }
    }
  });

  it('throws for a route that has no contract, naming it', () => {
    const saved = API_CONTRACT.listBuckets;
    const contract = API_CONTRACT as Record<string, unknown>;
    delete contract.listBuckets;
    try {
      expect(() => buildOpenApi()).toThrow('GET /buckets (listBuckets) has no contract');
    } finally {
      contract.listBuckets = saved;
    }
  });
});
