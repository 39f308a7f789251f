import * as fs from 'node:fs';
import * as path from 'node:path';
import { App, CfnResource, Stack, Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks, ServerlessChecks } from 'cdk-nag';
import type { IConstruct } from 'constructs';
import { stackPropsFromContext } from '../../lib/context';
import { FileServiceStack, type FileServiceStackProps } from '../../lib/file-service-stack';

const CDK_JSON = JSON.parse(fs.readFileSync(path.join(__dirname, '..', '..', 'cdk.json'), 'utf8')) as {
  context: Record<string, unknown>;
};
export const FIXTURE_FUNCTIONS = path.join(__dirname, 'fixtures', 'functions');

export interface BuildOptions {
  /** Extra CDK context, as `-c key=value` would give. */
  context?: Record<string, unknown>;
  /** Run esbuild for real (slow); default: bundling skipped. */
  bundle?: boolean;
  outdir?: string;
  props?: Partial<FileServiceStackProps>;
  /** Register the cdk-nag packs as bin/app.ts does. */
  nag?: boolean;
}

/** The stack as bin/app.ts builds it, with the feature flags from cdk.json. */
export function buildStack(options: BuildOptions = {}): { app: App; stack: FileServiceStack } {
  const app = new App({
    ...(options.outdir ? { outdir: options.outdir } : {}),
    context: {
      ...CDK_JSON.context,
      ...(options.bundle ? {} : { 'aws:cdk:bundling-stacks': [] }),
      ...options.context,
    },
  });
  const stack = new FileServiceStack(app, 'FileService', {
    ...stackPropsFromContext(app.node),
    functionsDir: FIXTURE_FUNCTIONS,
    ...options.props,
  });
  if (options.nag) Validations.of(app).addPlugins(new AwsSolutionsChecks(app), new ServerlessChecks(app));
  return { app, stack };
}

export function logicalId(construct: IConstruct): string {
  const resource = construct instanceof CfnResource ? construct : construct.node.defaultChild;
  if (!(resource instanceof CfnResource)) throw new Error(`${construct.node.path} has no CloudFormation resource`);
  const stack = Stack.of(resource);
  return stack.resolve(stack.getLogicalId(resource)) as string;
}

type Json = Record<string, unknown>;

/**
 * Copy of a template with the parts that change between machines and CDK releases masked: asset
 * hashes (S3 keys, hashed asset ids), the bootstrap version rule, and what aws-cdk-lib writes for
 * its own functions (bucket notifications, bucket deployment, auto-delete): their inline source
 * and the runtime it picks for them, which change with every aws-cdk-lib upgrade and are not
 * this stack's to review. Those functions are known by their Code.ZipFile, or by the UUID in the
 * logical id of CDK's singleton functions.
 */
export function normalizeTemplate(template: Json): Json {
  const text = JSON.stringify(template).replace(/[0-9a-f]{64}(\.zip|\.json)?/g, 'HASH$1');
  const result = JSON.parse(text) as Json;
  delete result.Rules;
  delete result.Parameters;
  const resources = (result.Resources ?? {}) as Record<string, { Type?: string; Properties?: { Code?: { ZipFile?: unknown }; Runtime?: unknown } }>;
  for (const [id, resource] of Object.entries(resources)) {
    if (resource.Type !== 'AWS::Lambda::Function' || !resource.Properties) continue;
    const props = resource.Properties;
    const inline = props.Code?.ZipFile !== undefined;
    if (inline) props.Code = { ...props.Code, ZipFile: 'INLINE CODE OF AWS-CDK-LIB' };
    if (inline || /[0-9a-f]{32}/i.test(id) || id.startsWith('CustomS3AutoDeleteObjects')) props.Runtime = 'RUNTIME CHOSEN BY AWS-CDK-LIB';
  }
  return result;
}
