import { Duration, Stack } from 'aws-cdk-lib';
import {
  AccessLogFormat,
  AuthorizationType,
  CognitoUserPoolsAuthorizer,
  JsonSchemaType,
  LambdaIntegration,
  LogGroupLogDestination,
  MethodLoggingLevel,
  Model,
  RequestValidator,
  ResponseType,
  RestApi,
  type CorsOptions,
} from 'aws-cdk-lib/aws-apigateway';
import type { IUserPool } from 'aws-cdk-lib/aws-cognito';
import type { IFunction } from 'aws-cdk-lib/aws-lambda';
import { LogGroup, RetentionDays } from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import { API_CORS_ALLOWED_HEADERS, API_CORS_ALLOWED_METHODS, API_CORS_MAX_AGE_SECONDS } from '../../lambda/shared/cors';
import { ROUTES, type ApiFunctionName } from '../../lambda/shared/routes';
import { acknowledgeNag } from './nag';

export interface ApiProps {
  userPool: IUserPool;
  /** The function serving each `fn` of the route table. */
  functions: Record<ApiFunctionName, IFunction>;
  /** Browser origins; empty: no CORS preflight and no CORS headers on errors. */
  allowedOrigins: readonly string[];
  /** Each method's own limit (API Gateway applies a stage's throttling per method, not to the stage as a whole). */
  throttling: { rateLimit: number; burstLimit: number };
  /** @default 'v1' */
  stageName?: string;
  /** Set the account's API Gateway logging role (account-wide: it replaces any role already set). @default false */
  cloudWatchRole?: boolean;
}

/**
 * The REST API, built from the shared route table (lambda/shared/routes.ts): one resource per path
 * and one method per row, every one behind the Cognito authorizer (CORS preflights aside). Errors produced by API
 * Gateway itself (401 from the authorizer, 403 for an unknown route, 429, 5xx) get the service's
 * JSON error body, `X-Content-Type-Options: nosniff` and, for allowed origins, CORS headers, so a
 * browser can read them.
 */
export class Api extends Construct {
  readonly restApi: RestApi;
  readonly accessLogs: LogGroup;

  constructor(scope: Construct, id: string, props: ApiProps) {
    super(scope, id);
    this.accessLogs = new LogGroup(this, 'AccessLogs', { retention: RetentionDays.ONE_MONTH });

    const preflight: CorsOptions | undefined = props.allowedOrigins.length
      ? {
          allowOrigins: [...props.allowedOrigins],
          allowMethods: [...API_CORS_ALLOWED_METHODS],
          allowHeaders: [...API_CORS_ALLOWED_HEADERS],
          maxAge: Duration.seconds(API_CORS_MAX_AGE_SECONDS),
        }
      : undefined;

    const logging = { loggingLevel: MethodLoggingLevel.ERROR, dataTraceEnabled: false, metricsEnabled: true } as const;
    this.restApi = new RestApi(this, 'Rest', {
      description: `${Stack.of(this).stackName}: S3 file service`,
      // Logging to CloudWatch (execution and access logs) needs the account's API Gateway logging
      // role, a setting of the whole account and region. Creating it here would overwrite whatever
      // role the account already has (AWS::ApiGateway::Account); the README says how to set it once,
      // or -c apiGatewayCloudWatchRole=true lets this stack do it (a fresh account, say).
      cloudWatchRole: props.cloudWatchRole ?? false,
      deployOptions: {
        stageName: props.stageName ?? 'v1',
        accessLogDestination: new LogGroupLogDestination(this.accessLogs),
        accessLogFormat: AccessLogFormat.jsonWithStandardFields({
          caller: true,
          httpMethod: true,
          ip: true,
          protocol: true,
          requestTime: true,
          resourcePath: true,
          responseLength: true,
          status: true,
          user: true,
        }),
        // Full request/response logging (dataTraceEnabled) would write bearer tokens and presigned
        // URLs to the logs.
        ...logging,
        tracingEnabled: true,
        throttlingRateLimit: props.throttling.rateLimit,
        throttlingBurstLimit: props.throttling.burstLimit,
      },
      ...(preflight ? { defaultCorsPreflightOptions: preflight } : {}),
    });

    if (props.cloudWatchRole) {
      acknowledgeNag(
        this.restApi,
        'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AmazonAPIGatewayPushToCloudWatchLogs]',
        'The account-level role API Gateway writes execution logs with, created only with -c apiGatewayCloudWatchRole=true; AWS prescribes this managed policy for it.',
      );
    }

    this.addJsonGatewayResponses(props.allowedOrigins);

    const authorizer = new CognitoUserPoolsAuthorizer(this, 'Authorizer', { cognitoUserPools: [props.userPool] });
    const integrations = new Map<ApiFunctionName, LambdaIntegration>();
    const integrationFor = (fn: ApiFunctionName) => {
      let integration = integrations.get(fn);
      if (!integration) {
        // allowTestInvoke: false halves the Lambda permissions (no console test-invoke grant).
        integration = new LambdaIntegration(props.functions[fn], { allowTestInvoke: false });
        integrations.set(fn, integration);
      }
      return integration;
    };

    // Cheap structural check of JSON bodies; the handler validates the fields.
    const bodyValidator = new RequestValidator(this, 'BodyValidator', {
      restApi: this.restApi,
      validateRequestBody: true,
      validateRequestParameters: true,
    });
    const jsonObject = new Model(this, 'JsonObject', {
      restApi: this.restApi,
      contentType: 'application/json',
      schema: { type: JsonSchemaType.OBJECT },
      description: 'Any JSON object',
    });

    for (const route of ROUTES) {
      const resource = this.restApi.root.resourceForPath(route.resource);
      const hasBody = route.method === 'POST' || route.method === 'PUT';
      resource.addMethod(route.method, integrationFor(route.fn), {
        authorizer,
        authorizationType: AuthorizationType.COGNITO,
        operationName: route.operation,
        ...(hasBody ? { requestValidator: bodyValidator, requestModels: { 'application/json': jsonObject } } : {}),
      });
    }
  }

  /** `{"error":{"code","message"}}` for every error API Gateway answers by itself. */
  private addJsonGatewayResponses(allowedOrigins: readonly string[]): void {
    // A JSON error must never be sniffed into something a browser renders or runs.
    const headers: Record<string, string> = { 'X-Content-Type-Options': "'nosniff'" };
    if (allowedOrigins.length === 1) {
      headers['Access-Control-Allow-Origin'] = `'${allowedOrigins[0]}'`;
    } else if (allowedOrigins.length > 1) {
      // A gateway response cannot choose among origins; it echoes the caller's. Only API Gateway's
      // own error bodies (no user data) are exposed this way; the Lambda responses check the list.
      headers['Access-Control-Allow-Origin'] = 'method.request.header.Origin';
      headers['Vary'] = "'Origin'";
    }
    if (allowedOrigins.length) {
      headers['Access-Control-Allow-Headers'] = `'${API_CORS_ALLOWED_HEADERS.join(',')}'`;
    }
    const template = {
      'application/json': '{"error":{"code":"$context.error.responseType","message":$context.error.messageString}}',
    };
    for (const [name, type] of [
      ['Default4xx', ResponseType.DEFAULT_4XX],
      ['Default5xx', ResponseType.DEFAULT_5XX],
    ] as const) {
      this.restApi.addGatewayResponse(name, { type, responseHeaders: headers, templates: template });
    }
  }
}
