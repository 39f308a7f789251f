/** What the console needs to know about where it runs: `config.json`, next to `index.html`. */
export interface ConsoleConfig {
  /** The API's base URL; empty means the console's own origin (local mode). */
  apiUrl: string;
  /** The OAuth 2.0 endpoints' base (the Cognito domain); empty means the console's own origin. */
  authUrl: string;
  clientId: string;
  region: string;
}

export async function loadConfig(): Promise<ConsoleConfig> {
  const res = await fetch('/config.json', { cache: 'no-store' });
  if (!res.ok) throw new Error(`config.json: HTTP ${res.status}`);
  const raw = (await res.json()) as Partial<ConsoleConfig>;
  if (typeof raw.clientId !== 'string' || !raw.clientId) throw new Error('config.json has no clientId');
  const base = (url: string | undefined) => (url ? url.replace(/\/+$/, '') : location.origin);
  return { apiUrl: base(raw.apiUrl), authUrl: base(raw.authUrl), clientId: raw.clientId, region: raw.region ?? '' };
}
