#!/usr/bin/env node
import { App, Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks, ServerlessChecks } from 'cdk-nag';
import { stackPropsFromContext } from '../lib/context';
import { FileServiceStack } from '../lib/file-service-stack';

/**
 * The CDK app: one environment-agnostic stack, checked by cdk-nag's AWS Solutions and Serverless
 * packs (cdk-nag 3 runs as a policy-validation plugin: an unacknowledged finding fails the synth).
 * Acknowledgements sit next to the resource they concern, each with its reason.
 */
const app = new App();
new FileServiceStack(app, app.node.tryGetContext('stackName') ?? 'FileService', stackPropsFromContext(app.node));
Validations.of(app).addPlugins(new AwsSolutionsChecks(app), new ServerlessChecks(app));
