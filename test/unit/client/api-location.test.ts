import { apiLocation } from '#cli/client/api-location';

const EXECUTE_API = 'https://abc123.execute-api.ap-northeast-2.amazonaws.com/dev/';

describe('apiLocation', () => {
  it('takes --api over HYBRIDOPS_API, and the region from an execute-api URL', () => {
    expect(
      apiLocation({ api: EXECUTE_API }, { HYBRIDOPS_API: 'https://other.example/x', AWS_REGION: 'us-east-1' }),
    ).toEqual({
      base: 'https://abc123.execute-api.ap-northeast-2.amazonaws.com/dev',
      region: 'ap-northeast-2',
    });
    expect(apiLocation({}, { HYBRIDOPS_API: EXECUTE_API }).region).toBe('ap-northeast-2');
  });

  it('signs for --region, else AWS_REGION, when the URL names none (a custom domain, localhost)', () => {
    expect(apiLocation({ api: 'http://localhost:8080', region: 'eu-west-1' }, {})).toEqual({
      base: 'http://localhost:8080',
      region: 'eu-west-1',
    });
    expect(apiLocation({ api: 'https://api.example.com/ops' }, { AWS_REGION: 'us-west-2' }).region).toBe('us-west-2');
  });

  it.each([
    [{}, /Pass --api <url> or set HYBRIDOPS_API.*--stack-name eks-hybrid-ops-prod --region eu-west-1/s],
    [{ api: 'not a url' }, /--api must be a URL/],
    [{ api: 'http://api.example.com/dev', region: 'eu-west-1' }, /--api must be https/],
    [{ api: EXECUTE_API, region: 'us-east-1' }, /does not match the API's region ap-northeast-2/],
    [{ api: 'https://api.example.com/dev', region: undefined }, /--region is needed/],
  ])('refuses %j as a usage error that says what to do', (values, message) => {
    expect(() => apiLocation({ stage: 'prod', region: 'eu-west-1', ...values }, {})).toThrow(message);
  });
});
