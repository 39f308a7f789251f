/**
 * SRP-6a as Amazon Cognito speaks it (USER_SRP_AUTH), both halves: the client's (the CLI's
 * `s3files login`) and the verifier and server side that the local Cognito endpoint needs.
 *
 * Cognito's choices, which a textbook SRP-6a does not make: the 3072-bit group of RFC 3526 with
 * g = 2; SHA-256; k = H(PAD(N) | PAD(g)) and u = H(PAD(A) | PAD(B)), where PAD is the shortest
 * even-length hex of a positive number with a leading 00 byte when its top bit is set (Java's
 * BigInteger.toByteArray); x = H(PAD(salt) | H(poolName | userId | ":" | password)), poolName being
 * the part of the pool id after "_"; the session key is 16 bytes of HKDF-SHA256 of PAD(S), salted
 * with PAD(u), info "Caldera Derived Key"; and the client proves it with
 * HMAC-SHA256(key, poolName | userId | SECRET_BLOCK | timestamp), the timestamp written
 * "ddd MMM D HH:mm:ss UTC YYYY". Checked against vectors made with amazon-cognito-identity-js.
 */
import { createHash, createHmac, randomBytes, timingSafeEqual } from 'node:crypto';

export const N = BigInt(
  '0x' +
    'FFFFFFFFFFFFFFFFC90FDAA22168C234C4C6628B80DC1CD129024E088A67CC74020BBEA63B139B22514A08798E3404DD' +
    'EF9519B3CD3A431B302B0A6DF25F14374FE1356D6D51C245E485B576625E7EC6F44C42E9A637ED6B0BFF5CB6F406B7ED' +
    'EE386BFB5A899FA5AE9F24117C4B1FE649286651ECE45B3DC2007CB8A163BF0598DA48361C55D39A69163FA8FD24CF5F' +
    '83655D23DCA3AD961C62F356208552BB9ED529077096966D670C354E4ABC9804F1746C08CA18217C32905E462E36CE3B' +
    'E39E772C180E86039B2783A2EC07A28FB5C55DF06F4C52C9DE2BCBF6955817183995497CEA956AE515D2261898FA0510' +
    '15728E5A8AAAC42DAD33170D04507A33A85521ABDF1CBA64ECFB850458DBEF0A8AEA71575D060C7DB3970F85A6E1E4C7' +
    'ABF5AE8CDB0933D71E8C94E04A25619DCEE3D2261AD2EE6BF12FFA06D98A0864D87602733EC86A64521F2B18177B200C' +
    'BBE117577A615D6C770988C0BAD946E208E24FA074E5AB3143DB5BFCE0FD108E4B82D120A93AD2CAFFFFFFFFFFFFFFFF',
);
export const g = 2n;

export class SrpError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'SrpError';
  }
}

/** The shortest even-length hex of a non-negative number, with 00 in front when its top bit is set. */
export function padHex(n: bigint): string {
  if (n < 0n) throw new SrpError('SRP values are never negative');
  let hex = n.toString(16);
  if (hex.length % 2 === 1) hex = '0' + hex;
  return /^[89a-f]/.test(hex) ? '00' + hex : hex;
}

const sha256 = (data: Buffer | string): Buffer => createHash('sha256').update(data).digest();
/** SHA-256 of the bytes a hex string spells, as hex. */
const hashHex = (hex: string): string => sha256(Buffer.from(hex, 'hex')).toString('hex');
const toBigInt = (hex: string): bigint => BigInt('0x' + hex);

export const k = toBigInt(hashHex(padHex(N) + padHex(g)));

export function modPow(base: bigint, exponent: bigint, modulus: bigint): bigint {
  let result = 1n;
  let b = ((base % modulus) + modulus) % modulus;
  for (let e = exponent; e > 0n; e >>= 1n) {
    if (e & 1n) result = (result * b) % modulus;
    b = (b * b) % modulus;
  }
  return result;
}

function parseHex(value: string, what: string): bigint {
  if (!/^[0-9a-fA-F]+$/.test(value)) throw new SrpError(`${what} is not hexadecimal`);
  return toBigInt(value);
}

/** The pool's name in SRP: what follows the region and "_" in the user pool id. */
export function poolNameOf(userPoolId: string): string {
  const name = userPoolId.split('_')[1];
  if (!name) throw new SrpError(`"${userPoolId}" is not a user pool id (region_name)`);
  return name;
}

/** x = H(PAD(salt) | H(poolName | userId ":" password)). */
export function passwordExponent(poolName: string, userId: string, password: string, saltHex: string): bigint {
  const userHash = sha256(`${poolName}${userId}:${password}`).toString('hex');
  return toBigInt(hashHex(padHex(parseHex(saltHex, 'SALT')) + userHash));
}

const scramble = (A: bigint, B: bigint): bigint => toBigInt(hashHex(padHex(A) + padHex(B)));

/** The 16-byte key both sides derive from S and u. */
function sessionKey(S: bigint, u: bigint): Buffer {
  const prk = createHmac('sha256', Buffer.from(padHex(u), 'hex')).update(Buffer.from(padHex(S), 'hex')).digest();
  return createHmac('sha256', prk).update(Buffer.concat([Buffer.from('Caldera Derived Key', 'utf8'), Buffer.from([1])])).digest().subarray(0, 16);
}

/** A random exponent of 128 bytes (what Cognito's own clients use), below N. */
const randomExponent = (random: (n: number) => Buffer): bigint => toBigInt(random(128).toString('hex')) % N;

// ---------------------------------------------------------------- the client

export interface SrpClient {
  /** SRP_A for InitiateAuth, as hex. */
  readonly srpA: string;
  /** The PASSWORD_VERIFIER answer's signature, from the challenge's SALT, SRP_B and SECRET_BLOCK. */
  passwordClaim(input: { poolName: string; userIdForSrp: string; password: string; saltHex: string; srpBHex: string; secretBlock: string; now: Date }): {
    signature: string;
    timestamp: string;
  };
}

/** `smallA` is for tests (known vectors); anything else draws 128 random bytes. */
export function createSrpClient(options: { smallA?: bigint; random?: (n: number) => Buffer } = {}): SrpClient {
  let a = options.smallA ?? 0n;
  let A = 0n;
  // A = g^a must not be 0 mod N (it cannot for a prime N, but the protocol says to check).
  while (A === 0n) {
    if (a === 0n) a = randomExponent(options.random ?? randomBytes);
    A = modPow(g, a, N);
  }
  return {
    srpA: A.toString(16),
    passwordClaim({ poolName, userIdForSrp, password, saltHex, srpBHex, secretBlock, now }) {
      const B = parseHex(srpBHex, 'SRP_B');
      if (B % N === 0n) throw new SrpError('SRP_B is 0 mod N');
      const u = scramble(A, B);
      if (u === 0n) throw new SrpError('u is 0');
      const x = passwordExponent(poolName, userIdForSrp, password, saltHex);
      const gx = modPow(g, x, N);
      const S = modPow((((B - k * gx) % N) + N) % N, a + u * x, N);
      const timestamp = srpTimestamp(now);
      return { signature: claimSignature(sessionKey(S, u), poolName, userIdForSrp, secretBlock, timestamp), timestamp };
    },
  };
}

const WEEKDAYS = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'];
const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
const two = (n: number) => String(n).padStart(2, '0');

/** "Tue Jan 2 03:04:05 UTC 2024": the day of the month is not padded, the time is. */
export function srpTimestamp(date: Date): string {
  return `${WEEKDAYS[date.getUTCDay()]} ${MONTHS[date.getUTCMonth()]} ${date.getUTCDate()} ${two(date.getUTCHours())}:${two(date.getUTCMinutes())}:${two(date.getUTCSeconds())} UTC ${date.getUTCFullYear()}`;
}

/** The time a timestamp of that format names, or undefined when it is not of that format. */
export function parseSrpTimestamp(text: string): Date | undefined {
  const m = /^(Sun|Mon|Tue|Wed|Thu|Fri|Sat) (Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) ([1-9]|[12]\d|3[01]) ([01]\d|2[0-3]):([0-5]\d):([0-5]\d) UTC (\d{4})$/.exec(text);
  if (!m) return undefined;
  const date = new Date(Date.UTC(Number(m[7]), MONTHS.indexOf(m[2]!), Number(m[3]), Number(m[4]), Number(m[5]), Number(m[6])));
  // Rejects Feb 30 (rolled over) and a weekday that is not that date's.
  return date.getUTCDate() === Number(m[3]) && WEEKDAYS[date.getUTCDay()] === m[1] ? date : undefined;
}

function claimSignature(key: Buffer, poolName: string, userId: string, secretBlock: string, timestamp: string): string {
  return createHmac('sha256', key)
    .update(Buffer.concat([Buffer.from(poolName, 'utf8'), Buffer.from(userId, 'utf8'), Buffer.from(secretBlock, 'base64'), Buffer.from(timestamp, 'utf8')]))
    .digest('base64');
}

// ---------------------------------------------------------------- the server (local Cognito)

/** What a user pool keeps instead of a password: a random salt and v = g^x. */
export function createVerifier(poolName: string, userId: string, password: string, random: (n: number) => Buffer = randomBytes): { saltHex: string; verifierHex: string } {
  const saltHex = random(16).toString('hex');
  return { saltHex, verifierHex: modPow(g, passwordExponent(poolName, userId, password, saltHex), N).toString(16) };
}

/**
 * Whether `password` is the one behind a stored verifier: x from the salt, the user id and the
 * password, then g^x mod N compared with v in constant time (both as 384-byte big-endian numbers).
 * What a password form checks (the local console's sign-in page), where SRP's exchange is not spoken.
 */
export function passwordMatchesVerifier(input: { poolName: string; userId: string; password: string; saltHex: string; verifierHex: string }): boolean {
  const v = parseHex(input.verifierHex, 'verifier');
  const gx = modPow(g, passwordExponent(input.poolName, input.userId, input.password, input.saltHex), N);
  const width = 384; // bytes of N: every value mod N fits
  const toBytes = (n: bigint) => Buffer.from((n % N).toString(16).padStart(width * 2, '0'), 'hex');
  return timingSafeEqual(toBytes(gx), toBytes(v));
}

export interface SrpServerSession {
  /** SRP_B for the PASSWORD_VERIFIER challenge, as hex. */
  readonly srpB: string;
  /** Whether the client's claim proves it knows the password (constant time). */
  verifyClaim(input: { poolName: string; userId: string; secretBlock: string; timestamp: string; signature: string }): boolean;
}

/** The server's half for one sign-in: refuses an SRP_A that is 0 mod N, as Cognito must. */
export function createSrpServerSession(input: { srpAHex: string; verifierHex: string; smallB?: bigint; random?: (n: number) => Buffer }): SrpServerSession {
  const A = parseHex(input.srpAHex, 'SRP_A');
  if (A % N === 0n) throw new SrpError('SRP_A is 0 mod N');
  const v = parseHex(input.verifierHex, 'verifier');
  let b = input.smallB ?? randomExponent(input.random ?? randomBytes);
  let B = 0n;
  while (B === 0n) {
    B = (k * v + modPow(g, b, N)) % N;
    if (B === 0n) b = randomExponent(input.random ?? randomBytes);
  }
  const u = scramble(A, B);
  // S = (A * v^u)^b: the same S as the client's (B - k g^x)^(a + u x).
  const key = u === 0n ? undefined : sessionKey(modPow((A * modPow(v, u, N)) % N, b, N), u);
  return {
    srpB: B.toString(16),
    verifyClaim({ poolName, userId, secretBlock, timestamp, signature }) {
      if (!key) return false;
      const expected = Buffer.from(claimSignature(key, poolName, userId, secretBlock, timestamp), 'base64');
      const given = Buffer.from(signature, 'base64');
      return given.length === expected.length && timingSafeEqual(given, expected);
    },
  };
}
