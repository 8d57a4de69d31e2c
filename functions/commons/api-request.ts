import type { APIGatewayProxyEvent } from 'aws-lambda';

type Request = Pick<APIGatewayProxyEvent, 'body' | 'isBase64Encoded' | 'headers' | 'path' | 'resource'> & {
  requestContext?: Partial<
    Pick<APIGatewayProxyEvent['requestContext'], 'domainName' | 'path' | 'resourcePath' | 'identity'>
  >;
};

/** The request body as text (API Gateway passes a binary one base64-encoded). */
export const requestBody = (event: Pick<Request, 'body' | 'isBase64Encoded'>): string | null | undefined =>
  event.isBase64Encoded && event.body ? Buffer.from(event.body, 'base64').toString('utf8') : event.body;

/** Who signed the request (`AWS_IAM`: the caller's IAM ARN). */
export const requester = (event: Pick<Request, 'requestContext'>): string =>
  event.requestContext?.identity?.userArn ?? 'unknown';

/**
 * The URL the API was called at, up to its resources: what a status URL starts with. In API
 * Gateway's proxy event, `requestContext.path` is the path the caller used, with the stage on the
 * execute-api domain (`/dev/nodes`) and the base path, if any, on a custom domain (`/ops/nodes`);
 * `requestContext.resourcePath` is the resource (`/nodes`, `/nodes/{requestId}`), so the caller's
 * path without as many trailing segments is the base
 * (https://docs.aws.amazon.com/apigateway/latest/developerguide/set-up-lambda-proxy-integrations.html).
 * The scheme is the X-Forwarded-Proto API Gateway sends (https; `hybridops api serve` sends http).
 */
export function apiBaseUrl(event: Request): string {
  const context = event.requestContext ?? {};
  const called = (context.path ?? event.path ?? '').split('/').filter(Boolean);
  const depth = (context.resourcePath ?? event.resource ?? '').split('/').filter(Boolean).length;
  const base = called.slice(0, Math.max(0, called.length - depth));
  const headers = Object.fromEntries(Object.entries(event.headers ?? {}).map(([k, v]) => [k.toLowerCase(), v]));
  const scheme = headers['x-forwarded-proto'] === 'http' ? 'http' : 'https';
  const host = context.domainName ?? headers.host ?? 'localhost';
  return [`${scheme}://${host}`, ...base].join('/');
}
