/**
 * The service's HMAC keys (lambda/shared/signing-keys.ts), one Secrets Manager secret per purpose,
 * and `bindSigningKeys`, which gives a function read access to exactly the keys of its row in the
 * grants table and names them (ARN, never the value) in its environment, in one call.
 */
import { RemovalPolicy } from 'aws-cdk-lib';
import { PolicyStatement } from 'aws-cdk-lib/aws-iam';
import { Secret, type ISecret } from 'aws-cdk-lib/aws-secretsmanager';
import { Construct } from 'constructs';
import { keyGrantStatements, SERVICE_FUNCTIONS } from '../../lambda/shared/grants';
import { SIGNING_KEY_NAMES, SIGNING_KEY_PURPOSES, type SigningKeyPurpose } from '../../lambda/shared/signing-keys';
import { acknowledgeNag } from './nag';
import type { ServiceFunction } from './service-function';

export interface SigningKeysProps {
  /** @default RETAIN: a deleted stack keeps the keys (cursors and upload ids stay verifiable on a redeploy). */
  removalPolicy?: RemovalPolicy;
}

export class SigningKeys extends Construct {
  readonly secrets: Record<SigningKeyPurpose, ISecret>;

  constructor(scope: Construct, id: string, props: SigningKeysProps = {}) {
    super(scope, id);
    const pascal = (s: string) => `${s[0]!.toUpperCase()}${s.slice(1)}`;
    const secrets: Partial<Record<SigningKeyPurpose, ISecret>> = {};
    for (const purpose of SIGNING_KEY_NAMES) {
      const secret = new Secret(this, `${pascal(purpose)}Key`, {
        description: SIGNING_KEY_PURPOSES[purpose].description,
        generateSecretString: { passwordLength: 64, excludePunctuation: true },
        removalPolicy: props.removalPolicy ?? RemovalPolicy.RETAIN,
      });
      acknowledgeNag(
        secret,
        'AwsSolutions-SMG4',
        'Rotated by hand, not by a rotation Lambda: a rotation is one put-secret-value with a random value (README, "Rotating the signing keys"), and the functions need nothing else: they fetch AWSCURRENT and AWSPREVIOUS, pick up a new version within SIGNING_KEYS_REFRESH_SECONDS, and accept the previous key for one token lifetime. A scheduled rotation function would add a role and a function for no gain in what the key protects.',
      );
      secrets[purpose] = secret;
    }
    this.secrets = secrets as Record<SigningKeyPurpose, ISecret>;
  }
}

/**
 * Lets `fn` read exactly the secrets of its row's keys (keyGrantStatements: GetSecretValue on each
 * secret, nothing else) and sets the variable that names each one, so the two cannot drift apart.
 */
export function bindSigningKeys(fn: ServiceFunction, secrets: Record<SigningKeyPurpose, ISecret>): void {
  const arns = Object.fromEntries(SIGNING_KEY_NAMES.map((p) => [p, secrets[p].secretArn])) as Record<SigningKeyPurpose, string>;
  for (const statement of keyGrantStatements(fn.serviceName, arns)) fn.addToRolePolicy(new PolicyStatement(statement));
  for (const purpose of SERVICE_FUNCTIONS[fn.serviceName].keys) fn.addEnvironment(SIGNING_KEY_PURPOSES[purpose].envVar, arns[purpose]);
}
