/**
 * The web console in local mode, on the gateway's own origin (so `npm start` prints one URL):
 * its files at `/`, `/console.js`, `/console.css`, its `config.json`, and the OAuth 2.0 endpoints
 * it signs in with (local/oauth.ts), in the shapes of the Cognito hosted UI. The bundle is built
 * in memory on the first request, from the same sources and esbuild call as `npm run build:web`.
 */
import type { APIGatewayProxyResult } from 'aws-lambda';
import { buildConsole, type ConsoleAssets } from '../web/build';
import { CONSOLE_SECURITY_HEADERS, consoleContentSecurityPolicy } from '../web/csp';
import type { LocalRoute } from './gateway';
import { createLocalOAuth, type SignInChecks } from './oauth';

export const LOCAL_CONSOLE_CLIENT_ID = 'local-console';
/** Cognito's default ID token lifetime. */
export const CONSOLE_ID_TOKEN_TTL_SECONDS = 3600;

export interface LocalConsoleOptions {
  /** The gateway's port: the console is served at `http://127.0.0.1:<port>/` and `http://localhost:<port>/`. */
  port: number;
  /** Where presigned URLs point (the browser PUTs and GETs there). */
  s3Endpoint: string;
  region: string;
  mintIdToken: (sub: string, claims: Record<string, unknown>, ttlSeconds: number) => string;
  /** The sign-in page's checks: the local user pool's (local/cognito/console-sign-in.ts). */
  signIn: SignInChecks;
  /** Built on first use by default. */
  build?: () => Promise<ConsoleAssets>;
}

type Routes = Record<string, { auth: boolean; handle: LocalRoute }>;

export function localConsoleRoutes(options: LocalConsoleOptions): Routes {
  const redirectUris = [`http://127.0.0.1:${options.port}/`, `http://localhost:${options.port}/`];
  const oauth = createLocalOAuth({
    clientId: LOCAL_CONSOLE_CLIENT_ID,
    redirectUris,
    idTokenTtlSeconds: CONSOLE_ID_TOKEN_TTL_SECONDS,
    mintIdToken: (sub) => options.mintIdToken(sub, { aud: LOCAL_CONSOLE_CLIENT_ID }, CONSOLE_ID_TOKEN_TTL_SECONDS),
    signIn: options.signIn,
  });
  const headers = {
    ...CONSOLE_SECURITY_HEADERS,
    'content-security-policy': consoleContentSecurityPolicy([new URL(options.s3Endpoint).origin]),
  };
  let built: Promise<ConsoleAssets> | undefined;
  const assets = () => (built ??= (options.build ?? buildConsole)().catch((err: unknown) => {
    built = undefined; // a fixed source builds on the next request
    throw err;
  }));

  const file = (path: string): LocalRoute => async () => {
    const asset = (await assets()).get(path);
    if (!asset) return { statusCode: 404, headers, body: 'Not found' };
    return { statusCode: 200, headers: { ...headers, 'content-type': asset.contentType, 'cache-control': 'no-cache' }, body: asset.body.toString('utf8') };
  };
  const config: LocalRoute = async (): Promise<APIGatewayProxyResult> => ({
    statusCode: 200,
    headers: { ...headers, 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store' },
    // Empty URLs: the API and the sign-in endpoints are on the console's own origin.
    body: JSON.stringify({ apiUrl: '', authUrl: '', clientId: LOCAL_CONSOLE_CLIENT_ID, region: options.region }),
  });
  const open = (handle: LocalRoute) => ({ auth: false, handle });
  return {
    'GET /': open(file('/index.html')),
    'GET /index.html': open(file('/index.html')),
    'GET /console.js': open(file('/console.js')),
    'GET /console.css': open(file('/console.css')),
    'GET /config.json': open(config),
    'GET /oauth2/authorize': open(oauth.authorize),
    'POST /oauth2/authorize': open(oauth.authorize),
    'POST /oauth2/token': open(oauth.token),
    'POST /oauth2/revoke': open(oauth.revoke),
    'GET /logout': open(oauth.logout),
  };
}
