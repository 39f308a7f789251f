import { RemovalPolicy } from 'aws-cdk-lib';
import { AccountRecovery, Mfa, UserPool, UserPoolClient } from 'aws-cdk-lib/aws-cognito';
import { Construct } from 'constructs';
import { acknowledgeNag } from './nag';

export interface AuthProps {
  /** @default RETAIN: deleting the stack must not delete the users. */
  removalPolicy?: RemovalPolicy;
}

/**
 * Who may call the API: a Cognito user pool whose users an administrator creates (no self sign-up),
 * signing in with their email address, and one public app client for the CLI and the web page.
 */
export class Auth extends Construct {
  readonly userPool: UserPool;
  readonly client: UserPoolClient;

  constructor(scope: Construct, id: string, props: AuthProps = {}) {
    super(scope, id);
    this.userPool = new UserPool(this, 'Users', {
      selfSignUpEnabled: false,
      signInAliases: { email: true },
      autoVerify: { email: true },
      accountRecovery: AccountRecovery.EMAIL_ONLY,
      passwordPolicy: {
        minLength: 12,
        requireLowercase: true,
        requireUppercase: true,
        requireDigits: true,
        requireSymbols: true,
      },
      // TOTP available to every user; SMS needs an SNS role and a sandbox exit, so it is left off.
      mfa: Mfa.OPTIONAL,
      mfaSecondFactor: { otp: true, sms: false },
      removalPolicy: props.removalPolicy ?? RemovalPolicy.RETAIN,
    });
    acknowledgeNag(
      this.userPool,
      'AwsSolutions-COG2',
      'MFA is optional (TOTP) rather than required: users are created by an administrator, the password policy is strong, and required MFA would block the scripted USER_PASSWORD sign-in the CLI uses. Set mfa: Mfa.REQUIRED for deployments that need it.',
    );
    acknowledgeNag(
      this.userPool,
      'AwsSolutions-COG8',
      'The Plus feature plan (threat protection) is billed per monthly active user; this service has administrator-created users only and no self sign-up. Enable featurePlan PLUS for production pools exposed to the public.',
    );
    this.client = this.userPool.addClient('Cli', {
      // A public client (CLI, browser): it cannot keep a secret.
      generateSecret: false,
      authFlows: { userSrp: true, userPassword: true },
      preventUserExistenceErrors: true,
      // Tokens come from InitiateAuth (CLI) or SRP (web page); no hosted UI, so no OAuth flows or callback URLs.
      disableOAuth: true,
    });
  }
}
