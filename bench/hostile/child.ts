/**
 * Child process for run.ts: profiles one file (`profile <file> <key> <type>`) or reads one page of
 * its rows (`rows <file> <key> <type> <offset:limit>`) with the limits the read function gives the
 * engine, and prints {seconds, cpuSeconds, maxRssMB, outcome} as JSON. run.ts bundles it with
 * esbuild and runs it with plain `node`, as a Lambda runs a bundle, so the peak RSS is the engine's.
 */
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { profileObject, readRows } from '../../lambda/core/profile';
import { ROWS_DEADLINE_MS, ROWS_MAX_RESPONSE_BYTES } from '../../lambda/core/read-limits';

/** What the engine said, in a few words: the profile's status and reason, or the page, or the error. */
function describeProfile(profile: Record<string, unknown>): string {
  const truncated = profile.truncated as { reason?: string } | undefined;
  const budget = profile.budget as { sketchedColumns?: number; lightColumns?: number; omittedColumns?: number } | undefined;
  const parts = [truncated ? `truncated (${truncated.reason})` : 'ok', `${String(profile.rows)} rows`, `${String(profile.columnCount)} columns`];
  if (budget?.lightColumns) parts.push(`${budget.lightColumns} light`);
  if (budget?.omittedColumns) parts.push(`${budget.omittedColumns} omitted`);
  if (budget?.sketchedColumns) parts.push(`${budget.sketchedColumns} sketched by the budget`);
  return parts.join(', ');
}

async function main(): Promise<void> {
  const [mode, path, key, contentType, rows] = process.argv.slice(2) as [string, string, string, string, string | undefined];
  const { size } = await stat(path);
  const input = { body: createReadStream(path, { highWaterMark: 256 * 1024 }), key, contentType, size };
  const start = process.hrtime.bigint();
  const cpu0 = process.cpuUsage();
  let outcome: string;
  try {
    if (mode === 'profile') {
      outcome = describeProfile((await profileObject(input)) as unknown as Record<string, unknown>);
    } else {
      const [offset, limit] = rows!.split(':').map(Number) as [number, number];
      const page = await readRows(input, { offset, limit, maxBytes: ROWS_MAX_RESPONSE_BYTES, deadline: Date.now() + ROWS_DEADLINE_MS });
      const stopped = (page as { truncated?: { reason: string } }).truncated;
      outcome = `${page.rows.length} rows x ${page.columns.length} columns${stopped ? `, stopped (${stopped.reason})` : ''}`;
    }
  } catch (err) {
    const e = err as Error & { code?: string };
    outcome = `${e.name}${e.code ? ` ${e.code}` : ''}: ${e.message.slice(0, 120)}`;
  }
  const seconds = Number(process.hrtime.bigint() - start) / 1e9;
  const cpu = process.cpuUsage(cpu0);
  process.stdout.write(
    JSON.stringify({ seconds, cpuSeconds: (cpu.user + cpu.system) / 1e6, maxRssMB: process.resourceUsage().maxRSS / 1024, outcome }),
  );
}
void main();
