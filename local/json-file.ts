/** The local stores' (S3's, SQS's) one way to read the JSON files they keep their state in. */
import { readFile } from 'node:fs/promises';

/**
 * The parsed contents of a JSON file, or undefined when there is none: the file is missing, or a
 * folder on its path is a file (ENOTDIR), which for a store laid out by key means the same.
 */
export async function readJsonFile<T>(path: string): Promise<T | undefined> {
  try {
    return JSON.parse(await readFile(path, 'utf8')) as T;
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') return undefined;
    throw err;
  }
}
