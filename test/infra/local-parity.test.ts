import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Template } from 'aws-cdk-lib/assertions';
import { ROUTES } from '../../lambda/shared/routes';
import { createGateway, DEFAULT_FUNCTION_TIMEOUT_SECONDS } from '../../local/gateway';
import { buildStack, logicalId } from './helpers';

/** What local mode copies from the stack, checked against the synthesized template. */
const { stack } = buildStack();
const resources = Template.fromStack(stack).toJSON().Resources as Record<string, { Properties: { Timeout?: number } }>;

describe('local mode and the stack', () => {
  it('times each API function out when the deployed function does', () => {
    const deployed = Object.fromEntries(
      Object.keys(DEFAULT_FUNCTION_TIMEOUT_SECONDS).map((name) => [
        name,
        resources[logicalId(stack.functions[name as keyof typeof DEFAULT_FUNCTION_TIMEOUT_SECONDS])]!.Properties.Timeout,
      ]),
    );
    expect(DEFAULT_FUNCTION_TIMEOUT_SECONDS).toEqual(deployed);
  });
});

describe('local CORS preflights and the stack\'s', () => {
  const ORIGIN = 'https://app.example.com';
  const { stack: withOrigins } = buildStack({ context: { allowedOrigins: ORIGIN } });
  const preflights = Object.values(Template.fromStack(withOrigins).findResources('AWS::ApiGateway::Method'))
    .filter((m) => m.Properties.HttpMethod === 'OPTIONS')
    .map((m) => m.Properties.Integration.IntegrationResponses[0] as { StatusCode: string; ResponseParameters: Record<string, string> });
  /** A deployed preflight as its headers would arrive: names lower-cased, the quotes of the static values gone. */
  const deployed = preflights.map((r) => ({
    status: Number(r.StatusCode),
    headers: Object.fromEntries(
      Object.entries(r.ResponseParameters).map(([name, value]) => [name.replace('method.response.header.', '').toLowerCase(), value.replace(/^'(.*)'$/, '$1')]),
    ),
  }));

  let server: Server;
  let base: string;
  beforeAll(async () => {
    const unused = async () => ({ statusCode: 500, body: '' });
    server = createGateway({
      handlers: { list: unused, read: unused, upload: unused },
      verifyIdToken: () => {
        throw new Error('a preflight is not authorized');
      },
      isAllowedOrigin: (origin) => origin === ORIGIN,
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  });

  it('gives every resource of the stack the same preflight answer', () => {
    expect(deployed.length).toBeGreaterThan(1);
    expect(new Set(deployed.map((d) => JSON.stringify(d))).size).toBe(1);
  });

  it.each([...new Set(ROUTES.map((r) => r.resource))])('answers a preflight on %s with the headers and status the stack gives', async (resource) => {
    const path = resource.replace('{key+}', 'dir/file.csv').replace(/\{[^}]+\}/g, 'x');

    const res = await fetch(`${base}${path}`, { method: 'OPTIONS', headers: { origin: ORIGIN, 'access-control-request-method': 'GET' } });

    const local: Record<string, string> = {};
    res.headers.forEach((value, name) => {
      if (name.startsWith('access-control-') || name === 'vary') local[name] = value;
    });
    expect({ status: res.status, headers: local }).toEqual(deployed[0]);
  });
});
