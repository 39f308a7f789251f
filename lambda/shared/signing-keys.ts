/**
 * The service's HMAC keys: one per purpose, so that a key that leaks can mint only the kind of
 * token it signs (a leaked cursor key cannot make an upload id). Each key is a
 * Secrets Manager secret; a function is granted, and fetches, only the keys of its row in the
 * grants table (lambda/shared/grants.ts). Fetching is in ./secrets.ts; this module is plain data
 * and functions, so the stack and local mode can read the table without the SDK.
 *
 * Rotation: a key ring signs with the secret's AWSCURRENT version and verifies with it and, for
 * `acceptPreviousSeconds` after the rotation (the AWSCURRENT version's creation), with AWSPREVIOUS,
 * so what was handed out just before a rotation keeps working for one lifetime, and a key rotated
 * away because it leaked stops being accepted after that (at once when rotated twice).
 */

/**
 * Every key the service has. `tokens` are the token purposes (the domain-separation strings the
 * MAC covers, ./signed-token.ts) a key may sign: signing any other with it is a bug and throws.
 * `acceptPreviousSeconds` is at least the longest lifetime of those tokens.
 */
export const SIGNING_KEY_PURPOSES = {
  cursor: {
    description: 'HMAC key for pagination cursors',
    envVar: 'CURSOR_KEY_SECRET_ID',
    tokens: ['cursor'],
    // Cursors carry no expiry; a listing paged across a rotation has a day to finish.
    acceptPreviousSeconds: 24 * 3600,
  },
  upload: {
    description: 'HMAC key for upload ids (POST /uploads)',
    envVar: 'UPLOAD_KEY_SECRET_ID',
    tokens: ['upload'],
    // An upload id lives at most UPLOAD_SESSION_SECONDS (lambda/core/upload.ts; a test holds them together).
    acceptPreviousSeconds: 7 * 24 * 3600,
  },
} as const satisfies Record<string, { description: string; envVar: string; tokens: readonly string[]; acceptPreviousSeconds: number }>;

export type SigningKeyPurpose = keyof typeof SIGNING_KEY_PURPOSES;
export const SIGNING_KEY_NAMES = Object.keys(SIGNING_KEY_PURPOSES) as SigningKeyPurpose[];

/** Shorter secrets are refused when fetched: an HMAC key must not be guessable. */
export const MIN_KEY_CHARS = 32;

/** The keys of one purpose as last fetched: one to sign with, one or two to verify with. */
export interface KeyRing {
  readonly purpose: SigningKeyPurpose;
  readonly signing: string;
  /** `signing` first, then the previous key while it is still accepted. */
  readonly verifying: readonly string[];
}

/** One version of a key's secret, as Secrets Manager returns it. */
export interface KeyVersion {
  value: string;
  /** When the version was created: for AWSCURRENT, when the key was last rotated. */
  createdAt: Date;
}

export class SigningKeyError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'SigningKeyError';
  }
}

/** The ring of `purpose` from its AWSCURRENT and (when there is one) AWSPREVIOUS versions, at `now`. */
export function keyRing(purpose: SigningKeyPurpose, current: KeyVersion, previous: KeyVersion | undefined, now: Date): KeyRing {
  for (const v of [current, previous]) {
    if (v && v.value.length < MIN_KEY_CHARS) {
      throw new SigningKeyError(`The ${purpose} key is shorter than ${MIN_KEY_CHARS} characters; put a longer secret value`);
    }
  }
  const acceptPreviousUntil = current.createdAt.getTime() + SIGNING_KEY_PURPOSES[purpose].acceptPreviousSeconds * 1000;
  const verifying = previous && previous.value !== current.value && now.getTime() < acceptPreviousUntil ? [current.value, previous.value] : [current.value];
  return { purpose, signing: current.value, verifying };
}

/** A function's keys, kept fresh by `refresh()`; the API handlers call it before each request. */
export interface SigningKeys {
  /** The keys of `purpose`; throws when the function has none of that purpose (a bug: no grant). */
  ring(purpose: SigningKeyPurpose): KeyRing;
  /** Resolves when the keys are at most the refresh interval old (the first call waits for the first fetch). */
  refresh(): Promise<void>;
}

/** Keys that never change (unit tests, and tools that sign with known keys). */
export function fixedSigningKeys(keys: Partial<Record<SigningKeyPurpose, string | { current: string; previous?: string }>>): SigningKeys {
  const rings = new Map<SigningKeyPurpose, KeyRing>();
  for (const purpose of SIGNING_KEY_NAMES) {
    const k = keys[purpose];
    if (k === undefined) continue;
    const { current, previous } = typeof k === 'string' ? { current: k, previous: undefined } : k;
    rings.set(purpose, { purpose, signing: current, verifying: previous ? [current, previous] : [current] });
  }
  return { ring: (purpose) => ringOf(rings, purpose), refresh: async () => undefined };
}

export function ringOf(rings: ReadonlyMap<SigningKeyPurpose, KeyRing>, purpose: SigningKeyPurpose): KeyRing {
  const ring = rings.get(purpose);
  if (!ring) throw new SigningKeyError(`This function has no ${purpose} key (not in its row of the grants table)`);
  return ring;
}

/** Throws unless `ring`'s key may sign tokens of `tokenPurpose`: a key signs only its own kinds. */
export function checkTokenPurpose(ring: KeyRing, tokenPurpose: string): void {
  if (!(SIGNING_KEY_PURPOSES[ring.purpose].tokens as readonly string[]).includes(tokenPurpose)) {
    throw new SigningKeyError(`The ${ring.purpose} key does not sign ${tokenPurpose} tokens`);
  }
}
