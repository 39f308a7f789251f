import { readFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import type { Endpoints } from './service';

/**
 * `npm run replay-dlq [-- --list] [-- <messageId>...]`: shows or sends dead letters back to the
 * running local service's queue (it reads the API URL and a token from <data folder>/endpoints.json).
 */
async function main(argv: string[]): Promise<number> {
  const file = join(resolve(process.env.LOCAL_DATA_DIR || '.local'), 'endpoints.json');
  let endpoints: Endpoints;
  try {
    endpoints = JSON.parse(await readFile(file, 'utf8')) as Endpoints;
  } catch {
    console.error(`No ${file}: start the local service with npm start first.`);
    return 1;
  }
  const headers = { authorization: `Bearer ${endpoints.token}` };
  if (argv.includes('--list')) {
    const res = await fetch(`${endpoints.apiUrl}/local/dead-letters`, { headers });
    console.log(JSON.stringify(await res.json(), null, 2));
    return res.ok ? 0 : 1;
  }
  const query = argv.map((id) => `id=${encodeURIComponent(id)}`).join('&');
  const res = await fetch(`${endpoints.apiUrl}/local/dead-letters/replay${query ? `?${query}` : ''}`, { method: 'POST', headers });
  const body = (await res.json()) as { replayed?: number };
  console.log(res.ok ? `Replayed ${body.replayed} message(s).` : JSON.stringify(body));
  return res.ok ? 0 : 1;
}

main(process.argv.slice(2)).then(
  (code) => (process.exitCode = code),
  (err: unknown) => {
    console.error(`Could not reach the local service: ${String((err as Error)?.message ?? err)}`);
    process.exitCode = 1;
  },
);
