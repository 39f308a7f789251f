import { Duration, RemovalPolicy } from 'aws-cdk-lib';
import {
  AccountRecovery,
  CfnUserPoolRiskConfigurationAttachment,
  FeaturePlan,
  Mfa,
  StandardThreatProtectionMode,
  UserPool,
  UserPoolClient,
} from 'aws-cdk-lib/aws-cognito';
import { Construct } from 'constructs';
import { acknowledgeNag } from './nag';

export interface AuthProps {
  /** @default RETAIN: deleting the stack must not delete the users. */
  removalPolicy?: RemovalPolicy;
  /**
   * Refuse DeleteUserPool (console, CLI, CloudFormation) until it is turned off. Off only for
   * throw-away stacks, whose pool is deleted with the stack.
   * @default true
   */
  deletionProtection?: boolean;
  /**
   * The Plus feature plan with threat protection enforced (adaptive authentication, compromised
   * credentials). Billed per monthly active user, hence off unless asked for.
   * @default false
   */
  threatProtection?: boolean;
}

/** Refresh tokens (the CLI's and the web page's long-lived credential) live a week at most. */
export const REFRESH_TOKEN_VALIDITY = Duration.days(7);
/** ID and access tokens: Cognito's default hour, stated so the tests and the README can rely on it. */
export const ID_TOKEN_VALIDITY = Duration.hours(1);

/**
 * Who may call the API: a Cognito user pool whose users an administrator creates (no self sign-up),
 * signing in with their email address (case-insensitive) by SRP with a TOTP code every time, and
 * one public app client for the CLI and the web page.
 */
export class Auth extends Construct {
  readonly userPool: UserPool;
  readonly client: UserPoolClient;

  constructor(scope: Construct, id: string, props: AuthProps = {}) {
    super(scope, id);
    const threatProtection = props.threatProtection ?? false;
    this.userPool = new UserPool(this, 'Users', {
      selfSignUpEnabled: false,
      signInAliases: { email: true },
      // Fixed when the pool is created (changing it replaces the pool): Alice@Example.com and
      // alice@example.com are one user, as people expect of an email address.
      signInCaseSensitive: false,
      autoVerify: { email: true },
      accountRecovery: AccountRecovery.EMAIL_ONLY,
      passwordPolicy: {
        minLength: 12,
        requireLowercase: true,
        requireUppercase: true,
        requireDigits: true,
        requireSymbols: true,
      },
      // Every sign-in needs a TOTP code from an authenticator app; a new user sets one up at first
      // sign-in (the MFA_SETUP challenge). No SMS: it needs an SNS role and a sandbox exit, and
      // SIM-swapping defeats it.
      mfa: Mfa.REQUIRED,
      mfaSecondFactor: { otp: true, sms: false, email: false },
      deletionProtection: props.deletionProtection ?? true,
      // Essentials is CDK's default for a new pool; stated so the plan is a decision, not a default.
      featurePlan: threatProtection ? FeaturePlan.PLUS : FeaturePlan.ESSENTIALS,
      ...(threatProtection ? { standardThreatProtectionMode: StandardThreatProtectionMode.FULL_FUNCTION } : {}),
      removalPolicy: props.removalPolicy ?? RemovalPolicy.RETAIN,
    });
    if (threatProtection) {
      // What "enforced" does: block sign-ins Cognito rates high-risk and passwords known to be
      // leaked. No notification mails (they need an SES identity); MFA is already always asked for,
      // so the lower risk levels need no action of their own.
      new CfnUserPoolRiskConfigurationAttachment(this, 'ThreatProtection', {
        userPoolId: this.userPool.userPoolId,
        clientId: 'ALL',
        accountTakeoverRiskConfiguration: {
          actions: {
            highAction: { eventAction: 'BLOCK', notify: false },
            mediumAction: { eventAction: 'MFA_IF_CONFIGURED', notify: false },
            lowAction: { eventAction: 'NO_ACTION', notify: false },
          },
        },
        compromisedCredentialsRiskConfiguration: {
          actions: { eventAction: 'BLOCK' },
          eventFilter: ['SIGN_IN', 'PASSWORD_CHANGE', 'SIGN_UP'],
        },
      });
    } else {
      acknowledgeNag(
        this.userPool,
        'AwsSolutions-COG8',
        'Threat protection needs the Plus feature plan, billed per monthly active user; it is a deployment choice (-c threatProtection=true). Without it every sign-in still needs SRP and a TOTP code, users are created by an administrator only, and the password policy is strong.',
      );
    }

    this.client = this.userPool.addClient('Cli', {
      // A public client (CLI, browser): it cannot keep a secret.
      generateSecret: false,
      // SRP only: the password never leaves the client, so a logging proxy or a compromised
      // endpoint cannot replay it. CDK adds ALLOW_REFRESH_TOKEN_AUTH.
      authFlows: { userSrp: true },
      refreshTokenValidity: REFRESH_TOKEN_VALIDITY,
      idTokenValidity: ID_TOKEN_VALIDITY,
      accessTokenValidity: ID_TOKEN_VALIDITY,
      // A first sign-in is NEW_PASSWORD_REQUIRED then MFA_SETUP (associate, scan, verify): more
      // than the default 3 minutes for a person with a phone in hand.
      authSessionValidity: Duration.minutes(10),
      enableTokenRevocation: true,
      preventUserExistenceErrors: true,
      // Tokens come from SRP (CLI, web page); no hosted UI, so no OAuth flows or callback URLs.
      disableOAuth: true,
    });
  }
}

