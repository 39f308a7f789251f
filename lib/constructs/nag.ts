import { Stack, Validations, type CfnResource } from 'aws-cdk-lib';
import type { IConstruct } from 'constructs';

/**
 * Acknowledges one cdk-nag finding on `scope` and everything under it, with the reason it is
 * accepted. `rule` is the rule id as cdk-nag prints it (`AwsSolutions-IAM5[Resource::*]`,
 * `Serverless-LambdaDLQ`); the pack namespace is derived from it.
 */
export function acknowledgeNag(scope: IConstruct, rule: string, reason: string): void {
  const pack = rule.startsWith('Serverless-') ? 'Serverless' : 'AwsSolutions';
  Validations.of(scope).acknowledge({ id: `${pack}::${rule}`, reason });
}

/** How cdk-nag names a resource's ARN attribute in finding ids: `<LogicalId.Arn>`. */
export function nagArnRef(resource: CfnResource): string {
  const stack = Stack.of(resource);
  return `<${stack.resolve(stack.getLogicalId(resource)) as string}.Arn>`;
}
