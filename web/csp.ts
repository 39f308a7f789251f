/**
 * The console's security headers, one definition for the local gateway and the deployed response
 * headers policy: scripts and styles only from the console's own origin (no inline script, no
 * eval), connections only to the API, the sign-in endpoints and S3, never framed.
 */
export function consoleContentSecurityPolicy(connectSources: readonly string[]): string {
  return [
    "default-src 'none'",
    "script-src 'self'",
    "style-src 'self'",
    "img-src 'self' data:",
    `connect-src ${["'self'", ...connectSources].join(' ')}`,
    "form-action 'self'",
    "frame-ancestors 'none'",
    "base-uri 'none'",
  ].join('; ');
}

/** The other headers every console response carries (HSTS only where it is served over HTTPS). */
export const CONSOLE_SECURITY_HEADERS: Readonly<Record<string, string>> = {
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
  'x-frame-options': 'DENY',
};
