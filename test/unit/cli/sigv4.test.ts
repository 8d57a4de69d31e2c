import { createHash, createHmac } from 'node:crypto';
import { HttpRequest } from '@smithy/protocol-http';
import { SignatureV4 } from '@smithy/signature-v4';
import { type ArrivedRequest, type LocalIdentity, verifySigV4 } from '#cli/api/sigv4';

/**
 * The local API's SigV4 check: a request signed by the SDK's signer passes; unsigned, tampered,
 * wrongly keyed, stale or mis-scoped ones get API Gateway's 403 reasons.
 */

const ALICE: LocalIdentity = {
  accessKeyId: 'AKIALOCALALICE000001',
  secretAccessKey: 'alice-secret',
  arn: 'arn:aws:iam::111122223333:user/alice',
};
const lookup = (key: string) => (key === ALICE.accessKeyId ? ALICE : undefined);
const NOW = new Date('2026-12-01T00:30:00Z');

class NodeSha256 {
  private readonly parts: Buffer[] = [];
  constructor(private readonly secret?: unknown) {}
  update(data: Uint8Array) {
    this.parts.push(Buffer.from(data));
  }
  async digest() {
    const body = Buffer.concat(this.parts);
    return new Uint8Array(
      this.secret
        ? createHmac('sha256', Buffer.from(this.secret as string))
            .update(body)
            .digest()
        : createHash('sha256').update(body).digest(),
    );
  }
}

async function signed(
  options: { body?: string; secret?: string; service?: string; at?: Date; path?: string } = {},
): Promise<ArrivedRequest> {
  const body = options.body ?? '{"node":"gpu-node-01"}';
  const signer = new SignatureV4({
    service: options.service ?? 'execute-api',
    region: 'ap-northeast-2',
    credentials: { ...ALICE, secretAccessKey: options.secret ?? ALICE.secretAccessKey },
    sha256: NodeSha256,
    uriEscapePath: true,
  });
  const request = await signer.sign(
    new HttpRequest({
      method: 'POST',
      protocol: 'http:',
      hostname: '127.0.0.1',
      port: 8080,
      path: options.path ?? '/nodes',
      query: { dryRun: 'false' },
      headers: { host: '127.0.0.1:8080', 'content-type': 'application/json' },
      body,
    }),
    { signingDate: options.at ?? NOW },
  );
  const headers = Object.fromEntries(Object.entries(request.headers).map(([k, v]) => [k.toLowerCase(), v]));
  return { method: 'POST', url: `${options.path ?? '/nodes'}?dryRun=false`, headers, body: Buffer.from(body) };
}

describe('SigV4 verification of the local API', () => {
  it('accepts a request the SDK signer signed, as its identity', async () => {
    await expect(verifySigV4(await signed(), lookup, NOW)).resolves.toEqual({ ok: true, identity: ALICE });
  });

  it('refuses an unsigned request: Missing Authentication Token', async () => {
    const request = await signed();
    delete request.headers.authorization;

    await expect(verifySigV4(request, lookup, NOW)).resolves.toEqual({
      ok: false,
      errorType: 'MissingAuthenticationTokenException',
      message: 'Missing Authentication Token',
    });
  });

  it('refuses a tampered body, path or header, and a wrong secret: the signature does not match', async () => {
    const body = await signed();
    body.body = Buffer.from('{"node":"gpu-node-02"}');
    const path = await signed();
    path.url = '/fleets?dryRun=false';
    const hostHeader = await signed();
    hostHeader.headers['content-type'] = 'text/plain';
    const secret = await signed({ secret: 'not-alice-secret' });

    for (const request of [body, path, hostHeader, secret]) {
      await expect(verifySigV4(request, lookup, NOW)).resolves.toMatchObject({
        ok: false,
        errorType: 'InvalidSignatureException',
        message: expect.stringMatching(/^The request signature we calculated does not match/),
      });
    }
  });

  it('refuses an unknown access key, another service, and a stale or future date', async () => {
    const stranger = await signed();
    stranger.headers.authorization = String(stranger.headers.authorization).replace(ALICE.accessKeyId, 'AKIAUNKNOWN');

    await expect(verifySigV4(stranger, lookup, NOW)).resolves.toMatchObject({
      errorType: 'UnrecognizedClientException',
    });
    await expect(verifySigV4(await signed({ service: 's3' }), lookup, NOW)).resolves.toMatchObject({
      message: "Credential should be scoped to correct service: 'execute-api'. ",
    });
    const stale = await signed({ at: new Date(NOW.getTime() - 6 * 60_000) });
    await expect(verifySigV4(stale, lookup, NOW)).resolves.toMatchObject({
      message: 'Signature expired: 20261201T002400Z is now earlier than 20261201T002500Z (20261201T003000Z - 5 min.)',
    });
    const future = await signed({ at: new Date(NOW.getTime() + 6 * 60_000) });
    await expect(verifySigV4(future, lookup, NOW)).resolves.toMatchObject({
      message: expect.stringMatching(/^Signature not yet current/),
    });
    const recent = await signed({ at: new Date(NOW.getTime() - 4 * 60_000) });
    await expect(verifySigV4(recent, lookup, NOW)).resolves.toMatchObject({ ok: true });
  });

  it("accepts curl --aws-sigv4's signature, which signs host and x-amz-date only", async () => {
    // Sent by curl 7.88.1: curl --aws-sigv4 aws:amz:ap-northeast-2:execute-api --user KEY:SECRET ...
    const local = { accessKeyId: 'AKIAHYBRIDOPSLOCAL01', secretAccessKey: 'hybridops-local-secret', arn: ALICE.arn };
    const request: ArrivedRequest = {
      method: 'GET',
      url: '/nodes/abc',
      headers: {
        host: '127.0.0.1:18431',
        'x-amz-date': '20261201T005314Z',
        authorization:
          'AWS4-HMAC-SHA256 Credential=AKIAHYBRIDOPSLOCAL01/20261201/ap-northeast-2/execute-api/aws4_request, SignedHeaders=host;x-amz-date, Signature=1bded4554c659cc3a74e9934b52e8a50c942c11fa839a84b9f423abc73830ae6',
      },
      body: Buffer.alloc(0),
    };

    await expect(verifySigV4(request, () => local, new Date('2026-12-01T00:55:00Z'))).resolves.toMatchObject({
      ok: true,
    });
  });
});
