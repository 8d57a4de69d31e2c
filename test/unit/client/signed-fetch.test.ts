import { regionOfApiUrl, signedFetch, signRequest } from '#cli/client/signed-fetch';
import { startSigV4Server } from '#test/helpers/sigv4-test-server';

const KEY = { accessKeyId: 'AKIDSIGNER', secretAccessKey: 'signer-secret', sessionToken: 'signer-session' };
let server: Awaited<ReturnType<typeof startSigV4Server>>;

beforeEach(async () => {
  server = await startSigV4Server([KEY], () => ({ status: 200, body: { ok: true } }));
});
afterEach(() => server.close());

describe('signedFetch', () => {
  it('signs for execute-api so that a recomputed signature matches, query string and body included', async () => {
    const answer = await signedFetch('DELETE', `${server.url}/dev/nodes/gpu-node-01?force=true`, '{"a":1}', {
      region: 'ap-northeast-2',
      credentials: KEY,
    });

    expect(answer).toMatchObject({ status: 200, body: { ok: true } });
    expect(server.seen).toEqual([
      expect.objectContaining({ path: '/dev/nodes/gpu-node-01', query: { force: 'true' }, accessKeyId: 'AKIDSIGNER' }),
    ]);
  });

  it('is refused when the secret is wrong', async () => {
    const answer = await signedFetch('GET', `${server.url}/dev/nodes/x`, undefined, {
      region: 'ap-northeast-2',
      credentials: { ...KEY, secretAccessKey: 'not-it' },
    });

    expect(answer.status).toBe(403);
    expect(server.refused).toBe(1);
  });

  it('sends the session token of temporary credentials, and the execute-api scope', async () => {
    const signed = await signRequest(
      'GET',
      'https://abc123.execute-api.eu-west-1.amazonaws.com/dev/nodes/x',
      undefined,
      {
        region: 'eu-west-1',
        credentials: KEY,
        signingDate: new Date('2026-12-01T00:00:00Z'),
      },
    );

    expect(signed.headers['x-amz-security-token']).toBe('signer-session');
    expect(signed.headers.authorization).toContain('Credential=AKIDSIGNER/20261201/eu-west-1/execute-api/aws4_request');
  });

  it('reads the region from an execute-api URL only', () => {
    expect(regionOfApiUrl('https://abc123.execute-api.ap-northeast-2.amazonaws.com/dev')).toBe('ap-northeast-2');
    expect(regionOfApiUrl('http://127.0.0.1:8080/dev')).toBeUndefined();
  });
});
