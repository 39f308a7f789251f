/**
 * Stands in for `@aws-sdk/credential-provider-node` in the Lambda bundles only (an esbuild alias in
 * lib/constructs/bundling.ts); local mode and tests never load it.
 *
 * Lambda puts the execution role's credentials in AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY and
 * AWS_SESSION_TOKEN, the first link of the SDK's default chain. The rest of that chain (SSO, ini
 * files, credential_process, web identity, container/IMDS, and `@aws-sdk/nested-clients` for STS
 * and SSO) is never reached there, yet bundling it costs load time on every cold start
 * (bench/bundles/RESULTS.md). Same export name as the real module, which is all client-s3's
 * runtimeConfig imports from it.
 */
import { fromEnv, type FromEnvInit } from '@aws-sdk/credential-provider-env';
import type { AwsCredentialIdentityProvider } from '@smithy/types';

export const defaultProvider = (init: FromEnvInit = {}): AwsCredentialIdentityProvider => fromEnv(init);
