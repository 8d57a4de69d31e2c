import { apiBaseUrl, requestBody } from '#functions/commons/api-request';
import { apiEvent } from '../../helpers/api-event';

/**
 * Where a status URL points: the URL the caller used, up to the API's resources. API Gateway's
 * proxy event carries the path the caller used (requestContext.path) and the resource it matched
 * (requestContext.resourcePath).
 */
describe('apiBaseUrl', () => {
  const called = (domainName: string, path: string, resourcePath: string, proto?: string) =>
    apiBaseUrl(
      apiEvent({
        headers: proto ? { 'X-Forwarded-Proto': proto } : {},
        requestContext: { ...apiEvent().requestContext, domainName, path, resourcePath },
      }),
    );

  it('keeps the stage on the execute-api domain', () => {
    expect(called('abc123.execute-api.ap-northeast-2.amazonaws.com', '/dev/nodes', '/nodes', 'https')).toBe(
      'https://abc123.execute-api.ap-northeast-2.amazonaws.com/dev',
    );
  });

  it("keeps a custom domain's base path, and has none without one", () => {
    expect(called('api.example.com', '/ops/nodes/gpu-node-01', '/nodes/{requestId}', 'https')).toBe(
      'https://api.example.com/ops',
    );
    expect(called('api.example.com', '/fleets', '/fleets', 'https')).toBe('https://api.example.com');
  });

  it('answers http only where the caller used it (hybridops api serve), else https', () => {
    expect(called('127.0.0.1:8080', '/nodes', '/nodes', 'http')).toBe('http://127.0.0.1:8080');
    expect(called('abc123.execute-api.ap-northeast-2.amazonaws.com', '/dev/nodes', '/nodes')).toBe(
      'https://abc123.execute-api.ap-northeast-2.amazonaws.com/dev',
    );
  });
});

it('decodes a base64-encoded body, and passes any other as it is', () => {
  expect(requestBody({ body: Buffer.from('{"a":1}').toString('base64'), isBase64Encoded: true })).toBe('{"a":1}');
  expect(requestBody({ body: '{"a":1}', isBase64Encoded: false })).toBe('{"a":1}');
  expect(requestBody({ body: null, isBase64Encoded: false })).toBeNull();
});
