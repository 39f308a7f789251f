/**
 * The API's AWS WAF web ACL (REGIONAL, associated with the stage): a per-IP rate rule, a
 * per-bearer-token rate rule, and AWS's core rule set with the rules that would block the
 * service's legitimate requests set to count.
 */
import { Stack } from 'aws-cdk-lib';
import type { Stage } from 'aws-cdk-lib/aws-apigateway';
import { CfnWebACL, CfnWebACLAssociation } from 'aws-cdk-lib/aws-wafv2';
import { Construct } from 'constructs';

/** WAF's rate rules count requests over a trailing window of this many seconds. */
export const RATE_WINDOW_SECONDS = 300;

/**
 * Rules of AWSManagedRulesCommonRuleSet that this API's legitimate requests break, overridden to
 * count (their matches still show in the web ACL's metrics and sampled requests), with the reason.
 * The service validates each of these inputs itself and answers a JSON 400.
 */
export const COMMON_RULE_SET_COUNT_ONLY: Readonly<Record<string, string>> = {
  SizeRestrictions_BODY:
    'Blocks bodies over 8 KB. POST /uploads/{id}/complete lists every part (S3 allows 10,000, about 60 bytes each), so a large upload\'s complete body is hundreds of KB.',
  SizeRestrictions_QUERYSTRING:
    'Blocks query strings over 2,048 bytes. GET /buckets/{bucket}/objects takes a prefix of up to ~970 bytes of UTF-8 (percent-encoded: up to three times that) and a signed cursor that carries the last key.',
  SizeRestrictions_URIPATH:
    'Blocks paths over 1,024 bytes. Object keys are in the path (/buckets/{bucket}/objects/{key+}) and may be ~970 bytes of UTF-8 before percent-encoding.',
  RestrictedExtensions_URIPATH: 'Blocks paths ending in .log, .ini, .bak and the like: those are ordinary file names for a file service, and keys are in the path.',
  RestrictedExtensions_QUERYARGUMENTS: 'The same for query arguments: a listing\'s prefix may name such a file.',
};

export interface FirewallProps {
  stage: Stage;
  /** The stage's per-method limit in requests per second; the rate rules are fractions of it. */
  methodRateLimit: number;
}

/** The per-IP and per-token limits (requests per RATE_WINDOW_SECONDS) for a per-method limit. */
export function wafRateLimits(methodRateLimit: number): { perIp: number; perToken: number } {
  const methodPerWindow = methodRateLimit * RATE_WINDOW_SECONDS;
  // WAF's smallest rate limit is 10 requests per window.
  return { perIp: Math.max(10, Math.floor(methodPerWindow / 5)), perToken: Math.max(10, Math.floor(methodPerWindow / 10)) };
}

/**
 * API Gateway throttles per method and per API key, not per Cognito user. Per user, the closest is
 * WAF's rate rule keyed on the Authorization header: one key per ID token, i.e. per sign-in (an
 * hour, MFA to get another). A client that varies the header to escape it sends tokens the Cognito
 * authorizer rejects without invoking a function, and the per-IP rule counts those.
 *
 * Limits: a fifth of one method's throughput per address (so it takes five addresses to get every
 * user answered 429 on a method, where one could before), a tenth per token. Blocked requests get
 * 429 with the service's JSON error body; the core rule set's blocks get API Gateway's 403
 * (WAF_FILTERED, a DEFAULT_4XX: the JSON error body too).
 */
export class Firewall extends Construct {
  readonly webAcl: CfnWebACL;

  constructor(scope: Construct, id: string, props: FirewallProps) {
    super(scope, id);
    const prefix = Stack.of(this).stackName;
    const visibility = (name: string) => ({ cloudWatchMetricsEnabled: true, sampledRequestsEnabled: true, metricName: `${prefix}-${name}` });
    const limits = wafRateLimits(props.methodRateLimit);
    const tooMany = { block: { customResponse: { responseCode: 429, customResponseBodyKey: 'TooManyRequests' } } };

    this.webAcl = new CfnWebACL(this, 'WebAcl', {
      scope: 'REGIONAL',
      description: `${prefix}: rate limits and AWS core rule set for the API`,
      defaultAction: { allow: {} },
      visibilityConfig: visibility('api'),
      customResponseBodies: {
        TooManyRequests: {
          contentType: 'APPLICATION_JSON',
          content: JSON.stringify({ error: { code: 'TooManyRequests', message: 'Too many requests from this address or token; retry in a few minutes' } }),
        },
      },
      rules: [
        {
          name: 'RatePerIp',
          priority: 0,
          action: tooMany,
          statement: { rateBasedStatement: { aggregateKeyType: 'IP', limit: limits.perIp, evaluationWindowSec: RATE_WINDOW_SECONDS } },
          visibilityConfig: visibility('rate-per-ip'),
        },
        {
          name: 'RatePerToken',
          priority: 1,
          action: tooMany,
          statement: {
            rateBasedStatement: {
              aggregateKeyType: 'CUSTOM_KEYS',
              limit: limits.perToken,
              evaluationWindowSec: RATE_WINDOW_SECONDS,
              customKeys: [{ header: { name: 'authorization', textTransformations: [{ priority: 0, type: 'NONE' }] } }],
            },
          },
          visibilityConfig: visibility('rate-per-token'),
        },
        {
          name: 'AwsCommonRuleSet',
          priority: 2,
          overrideAction: { none: {} },
          statement: {
            managedRuleGroupStatement: {
              vendorName: 'AWS',
              name: 'AWSManagedRulesCommonRuleSet',
              ruleActionOverrides: Object.keys(COMMON_RULE_SET_COUNT_ONLY).map((name) => ({ name, actionToUse: { count: {} } })),
            },
          },
          visibilityConfig: visibility('common-rule-set'),
        },
      ],
    });

    new CfnWebACLAssociation(this, 'StageAssociation', {
      resourceArn: props.stage.stageArn,
      webAclArn: this.webAcl.attrArn,
    });
  }
}
