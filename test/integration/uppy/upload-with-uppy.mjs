/**
 * Drives the real `@uppy/aws-s3` (Companion mode) through one upload and prints the outcome as
 * JSON on stdout. Run with plain `node` as a child process: Uppy ships ESM only, which jest's
 * CommonJS runtime cannot load.
 * Usage: node upload-with-uppy.mjs <companionEndpoint> <file> [size-in-meta: yes|no] [key]
 */
import { readFileSync } from 'node:fs';
import { basename } from 'node:path';
import Uppy from '@uppy/core';
import AwsS3 from '@uppy/aws-s3';
import { NodeXMLHttpRequest } from './node-xhr.mjs';

globalThis.XMLHttpRequest = NodeXMLHttpRequest;

const [companionEndpoint, path, sizeInMeta, key] = process.argv.slice(2);
if (!companionEndpoint || !path) throw new Error('usage: upload-with-uppy.mjs <companionEndpoint> <file> [yes|no] [key]');

const bytes = readFileSync(path);
const requests = [];
const realFetch = globalThis.fetch;
// Records every request: the Companion calls and, through the XHR stand-in, the part PUTs to S3.
globalThis.fetch = (input, init) => {
  const url = new URL(typeof input === 'string' ? input : input instanceof URL ? input.href : input.url);
  requests.push(`${init?.method ?? 'GET'} ${url.pathname.replace(/^\/uppy\/[^/]+/, '/uppy/<grant>').replace(/\/s3\/multipart\/[^/]+/, '/s3/multipart/<id>')}`);
  return realFetch(input, init);
};

const uppy = new Uppy({ autoProceed: false });
uppy.use(AwsS3, { companionEndpoint, shouldUseMultipart: true, limit: 1 });
const parts = [];
uppy.on('s3-multipart:part-uploaded', (_file, part) => parts.push(part.PartNumber));
const meta = {};
if (sizeInMeta === 'yes') meta.size = bytes.length;
if (key) meta.key = key;
uppy.addFile({
  name: basename(path),
  type: 'application/octet-stream',
  data: new File([bytes], basename(path), { type: 'application/octet-stream' }),
  meta,
});
const result = await uppy.upload();
const ok = result?.successful?.[0];
const failed = result?.failed?.[0];
process.stdout.write(
  JSON.stringify({
    successful: result?.successful?.length ?? 0,
    failed: result?.failed?.length ?? 0,
    error: failed?.error ? String(failed.error) : null,
    key: ok?.response?.body?.key ?? null,
    location: ok?.response?.uploadURL ?? null,
    parts,
    requests,
  }) + '\n',
);
