/**
 * ETags as S3 and HTTP spell them: quoted in headers and listings (`"abc"`, maybe `W/"abc"`),
 * bare in S3 event records (`abc`). Compare and store them bare; quote them for conditional headers.
 */
export function bareEtag(etag: string): string {
  return etag.trim().replace(/^W\//, '').replace(/^"|"$/g, '');
}

export function quotedEtag(etag: string): string {
  return `"${bareEtag(etag)}"`;
}
