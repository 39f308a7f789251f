/**
 * The app side of Uppy's signRequest mode against this service, as a browser app would write it
 * (README "Uppy"): each S3 request Uppy wants signed goes to `POST /uploads/sign` with the user's
 * bearer token, with the two things Uppy leaves out of the request, the file's size and (on the
 * multipart create) its content type. Used by the Node driver and bundled into the browser test's
 * page, so both run the same code.
 *
 * Spread the result into the AwsS3 options: `uppy.use(AwsS3, { ...uppySigning({ apiUrl, getToken }) })`.
 */
const MiB = 1024 * 1024;

/**
 * The server's part size for a file (lambda/core/multipart.ts `planParts`): the smallest whole
 * number of MiB, at least 8, that fits the file in 10,000 parts. Each part's length is signed, so
 * Uppy must cut the file the same way.
 */
export function partSizeFor(size) {
  return Math.max(8 * MiB, Math.ceil(size / 10_000 / MiB) * MiB);
}

export function uppySigning({ apiUrl, getToken }) {
  // The file behind each key Uppy names: its requested key first, then the S3 key the service returns.
  const files = new Map();
  return {
    generateObjectKey(file) {
      // The key under the user's area: the file's `key` meta field, or its name.
      const key = typeof file.meta?.key === 'string' && file.meta.key !== '' ? file.meta.key : file.name;
      files.set(key, { size: file.size, type: file.type || 'application/octet-stream' });
      return key;
    },
    getChunkSize: ({ size }) => partSizeFor(size),
    async signRequest(request) {
      const file = files.get(request.key);
      if (!file) throw new Error(`No file is being uploaded under ${request.key}`);
      const res = await fetch(`${apiUrl}/uploads/sign`, {
        method: 'POST',
        headers: { authorization: `Bearer ${await getToken()}`, 'content-type': 'application/json' },
        body: JSON.stringify({ ...request, size: file.size, contentType: request.contentType ?? file.type }),
      });
      const body = await res.json();
      if (!res.ok) throw new Error(`POST /uploads/sign answered ${res.status} ${body?.error?.code}: ${body?.error?.message}`);
      files.set(body.key, file);
      return body; // { url, key, headers }
    },
  };
}
