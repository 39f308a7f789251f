/**
 * Drives the real `@uppy/aws-s3` (v6, signRequest mode) through one upload and prints the outcome
 * as JSON on stdout. Run with plain `node` as a child process: Uppy ships ESM only, which jest's
 * CommonJS runtime cannot load.
 * Usage: node upload-with-uppy.mjs '{"apiUrl","token","file","key"?,"multipart"}'
 */
import { readFileSync } from 'node:fs';
import { basename } from 'node:path';
import Uppy from '@uppy/core';
import AwsS3 from '@uppy/aws-s3';
import { NodeXMLHttpRequest } from './node-xhr.mjs';
import { uppySigning } from './sign-request-client.mjs';

globalThis.XMLHttpRequest = NodeXMLHttpRequest;

const { apiUrl, token, file: path, key, multipart, type = 'application/octet-stream' } = JSON.parse(process.argv[2] ?? '{}');
if (!apiUrl || !path) throw new Error('usage: upload-with-uppy.mjs \'{"apiUrl","token","file","key"?,"multipart"}\'');

const bytes = readFileSync(path);
const requests = [];
const realFetch = globalThis.fetch;
// Records every request: the sign calls (with the S3 operation asked for) and, through the XHR
// stand-in, the requests to S3 themselves.
globalThis.fetch = async (input, init) => {
  const url = new URL(typeof input === 'string' ? input : input instanceof URL ? input.href : input.url);
  const method = init?.method ?? 'GET';
  if (url.pathname === '/uploads/sign') {
    const r = JSON.parse(init.body);
    requests.push(`sign ${r.method}${r.partNumber ? ` part ${r.partNumber}` : r.uploadId ? ' upload' : ''}`);
  } else {
    requests.push(`${method} ${url.pathname}${url.searchParams.has('uploads') ? '?uploads' : url.searchParams.has('partNumber') ? `?partNumber=${url.searchParams.get('partNumber')}` : url.searchParams.has('uploadId') ? '?uploadId' : ''}`);
  }
  return realFetch(input, init);
};

const uppy = new Uppy({ autoProceed: false });
uppy.use(AwsS3, { ...uppySigning({ apiUrl, getToken: () => token }), shouldUseMultipart: multipart, limit: 1 });
const parts = [];
uppy.on('s3-multipart:part-uploaded', (_file, part) => parts.push(part.PartNumber));
uppy.addFile({ name: basename(path), type, data: new File([bytes], basename(path), { type }), meta: key ? { key } : {} });
const result = await uppy.upload();
const ok = result?.successful?.[0];
const failed = result?.failed?.[0];
process.stdout.write(
  JSON.stringify({
    successful: result?.successful?.length ?? 0,
    failed: result?.failed?.length ?? 0,
    error: failed?.error ? String(failed.error.message ?? failed.error) : null,
    key: ok?.response?.body?.key ?? null,
    parts,
    requests,
  }) + '\n',
);
