import { randomBytes } from 'node:crypto';
import { createSrpClient, createSrpServerSession, createVerifier, k, N, padHex, parseSrpTimestamp, passwordMatchesVerifier, poolNameOf, srpTimestamp, SrpError } from '../../../cli/srp';
import vectors from './fixtures/srp-vectors.json';

/**
 * fixtures/srp-vectors.json was made with amazon-cognito-identity-js 6.3.21, the reference
 * client of Cognito's USER_SRP_AUTH: its AuthenticationHelper with a fixed small a, a verifier and
 * B computed with its own BigInteger, getPasswordAuthenticationKey for the HKDF key, its
 * DateHelper for the timestamp, and the PASSWORD_CLAIM_SIGNATURE as its CognitoUser computes it.
 */
const hexBig = (hex: string) => BigInt('0x' + hex);

describe('SRP as Cognito speaks it', () => {
  it('derives k from the padded N and g as the reference client does', () => {
    expect(k.toString(16)).toBe(vectors.k);
  });

  it('pads hex like Java BigInteger.toByteArray: even length, 00 before a set top bit', () => {
    expect(padHex(0x14n)).toBe('14');
    expect(padHex(0xecn)).toBe('00ec');
    expect(padHex(0x1abn)).toBe('01ab');
    expect(padHex(N).slice(0, 4)).toBe('00ff');
    expect(() => padHex(-1n)).toThrow(SrpError);
  });

  it('computes A = g^a for a known a', () => {
    expect(createSrpClient({ smallA: hexBig(vectors.aHex) }).srpA).toBe(vectors.A);
  });

  it('makes the reference PASSWORD_CLAIM_SIGNATURE from known SALT, SRP_B and SECRET_BLOCK', () => {
    const client = createSrpClient({ smallA: hexBig(vectors.aHex) });
    const claim = client.passwordClaim({
      poolName: vectors.poolName,
      userIdForSrp: vectors.user,
      password: vectors.password,
      saltHex: vectors.saltHex,
      srpBHex: vectors.B,
      secretBlock: vectors.secretBlock,
      now: new Date(Date.UTC(2024, 0, 2, 3, 4, 5)),
    });
    expect(claim).toEqual({ signature: vectors.signature, timestamp: vectors.timestamp });
  });

  it('gives a wrong signature for a wrong password', () => {
    const client = createSrpClient({ smallA: hexBig(vectors.aHex) });
    const claim = client.passwordClaim({
      poolName: vectors.poolName,
      userIdForSrp: vectors.user,
      password: vectors.password + 'x',
      saltHex: vectors.saltHex,
      srpBHex: vectors.B,
      secretBlock: vectors.secretBlock,
      now: new Date(Date.UTC(2024, 0, 2, 3, 4, 5)),
    });
    expect(claim.signature).not.toBe(vectors.signature);
  });

  it('computes the reference B from the verifier and a known b, on the server side', () => {
    const server = createSrpServerSession({ srpAHex: vectors.A, verifierHex: vectors.verifier, smallB: hexBig(vectors.bHex) });
    expect(server.srpB).toBe(vectors.B);
    const claim = { poolName: vectors.poolName, userId: vectors.user, secretBlock: vectors.secretBlock, timestamp: vectors.timestamp };
    expect(server.verifyClaim({ ...claim, signature: vectors.signature })).toBe(true);
    expect(server.verifyClaim({ ...claim, timestamp: 'Tue Jan 2 03:04:06 UTC 2024', signature: vectors.signature })).toBe(false);
  });

  it('lets a random client and server agree for the right password only', () => {
    const { saltHex, verifierHex } = createVerifier('Pool1', 'user-1', 'Right-password-1');
    const secretBlock = randomBytes(64).toString('base64');
    for (const [password, ok] of [['Right-password-1', true], ['right-password-1', false]] as const) {
      const client = createSrpClient();
      const server = createSrpServerSession({ srpAHex: client.srpA, verifierHex });
      const claim = client.passwordClaim({ poolName: 'Pool1', userIdForSrp: 'user-1', password, saltHex, srpBHex: server.srpB, secretBlock, now: new Date() });
      expect(server.verifyClaim({ poolName: 'Pool1', userId: 'user-1', secretBlock, ...claim })).toBe(ok);
    }
  });

  it("checks a typed password against the reference client's verifier, and refuses another", () => {
    const stored = { poolName: vectors.poolName, userId: vectors.user, saltHex: vectors.saltHex, verifierHex: vectors.verifier };

    expect(passwordMatchesVerifier({ ...stored, password: vectors.password })).toBe(true);
    expect(passwordMatchesVerifier({ ...stored, password: vectors.password + ' ' })).toBe(false);
    expect(passwordMatchesVerifier({ ...stored, userId: 'someone-else', password: vectors.password })).toBe(false);
  });

  it('refuses an SRP_A or SRP_B that is 0 mod N', () => {
    expect(() => createSrpServerSession({ srpAHex: N.toString(16), verifierHex: '02' })).toThrow(SrpError);
    const client = createSrpClient();
    expect(() =>
      client.passwordClaim({ poolName: 'P', userIdForSrp: 'u', password: 'p', saltHex: '01', srpBHex: (2n * N).toString(16), secretBlock: '', now: new Date() }),
    ).toThrow(SrpError);
  });

  it('writes the timestamp with an unpadded day and a padded time, and reads only that format back', () => {
    const date = new Date(Date.UTC(2025, 10, 9, 0, 5, 9));
    expect(srpTimestamp(date)).toBe('Sun Nov 9 00:05:09 UTC 2025');
    expect(parseSrpTimestamp('Sun Nov 9 00:05:09 UTC 2025')).toEqual(date);
    expect(parseSrpTimestamp('Sun Nov 09 00:05:09 UTC 2025')).toBeUndefined();
    expect(parseSrpTimestamp('Mon Nov 9 00:05:09 UTC 2025')).toBeUndefined();
    expect(parseSrpTimestamp('Sun Nov 9 00:05:09 GMT 2025')).toBeUndefined();
  });

  it('takes the pool name from the part of the pool id after the underscore', () => {
    expect(poolNameOf('eu-west-1_AbCdEf123')).toBe('AbCdEf123');
    expect(() => poolNameOf('nounderscore')).toThrow(SrpError);
  });
});
