import type { APIGatewayProxyEvent } from 'aws-lambda';
import { ACCOUNT } from './onboarding-fixtures';

/** An API Gateway (REST, proxy) event as Lambda receives it for an AWS_IAM-signed call by alice. */
export function apiEvent(overrides: Partial<APIGatewayProxyEvent> = {}): APIGatewayProxyEvent {
  return {
    resource: '/nodes',
    path: '/nodes',
    httpMethod: 'POST',
    headers: { 'content-type': 'application/json' },
    multiValueHeaders: {},
    queryStringParameters: null,
    multiValueQueryStringParameters: null,
    pathParameters: null,
    stageVariables: null,
    body: null,
    isBase64Encoded: false,
    requestContext: {
      accountId: ACCOUNT,
      apiId: 'abc123',
      authorizer: null,
      protocol: 'HTTP/1.1',
      httpMethod: 'POST',
      path: '/test/nodes',
      stage: 'test',
      requestId: 'api-request-0001',
      requestTimeEpoch: 1_795_305_600_000,
      resourceId: 'res001',
      resourcePath: '/nodes',
      domainName: 'abc123.execute-api.ap-northeast-2.amazonaws.com',
      identity: {
        accessKey: null,
        accountId: ACCOUNT,
        apiKey: null,
        apiKeyId: null,
        caller: null,
        clientCert: null,
        cognitoAuthenticationProvider: null,
        cognitoAuthenticationType: null,
        cognitoIdentityId: null,
        cognitoIdentityPoolId: null,
        principalOrgId: null,
        sourceIp: '198.51.100.7',
        user: null,
        userAgent: 'curl/8.5.0',
        userArn: `arn:aws:iam::${ACCOUNT}:user/alice`,
      },
    },
    ...overrides,
  };
}
