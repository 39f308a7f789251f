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

/**
 * Whether an `If-Match` / `If-None-Match` value (`*`, or a comma-separated list of ETags, weak or
 * strong) names `etag`. Compared bare, as S3 does (it ignores `W/`). Used by the read function's
 * If-None-Match and by the embedded S3's conditional reads and writes.
 */
export function etagListMatches(header: string, etag: string): boolean {
  const wanted = bareEtag(etag);
  return header.split(',').some((candidate) => candidate.trim() === '*' || bareEtag(candidate) === wanted);
}
