import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Sha256 } from '@aws-crypto/sha256-js';
import { HttpRequest } from '@smithy/protocol-http';
import { SignatureV4 } from '@smithy/signature-v4';
import type { AwsCredentialIdentity } from '@smithy/types';

/** One request as the test server saw it, after its signature was checked. */
export interface SeenRequest {
  method: string;
  /** The path without the query string, e.g. `/dev/nodes`. */
  path: string;
  query: Record<string, string>;
  body: string;
  /** The access key id that signed it. */
  accessKeyId: string;
}

export interface ScriptedAnswer {
  status: number;
  body: unknown;
  headers?: Record<string, string>;
}

const AUTHORIZATION =
  /^AWS4-HMAC-SHA256 Credential=([^/]+)\/(\d{8})\/([^/]+)\/([^/]+)\/aws4_request, SignedHeaders=([^,]+), Signature=([0-9a-f]{64})$/;

/**
 * A local HTTP server that checks every request's SigV4 signature as API Gateway's AWS_IAM does
 * (recomputes it with @smithy/signature-v4 from the request it received and the secret of the
 * access key it names, and compares), answers a bad one 403 InvalidSignatureException, and passes
 * good ones to `answer`.
 */
export async function startSigV4Server(
  keys: AwsCredentialIdentity[],
  answer: (request: SeenRequest) => ScriptedAnswer,
): Promise<{ url: string; seen: SeenRequest[]; refused: number; close: () => Promise<void> }> {
  const seen: SeenRequest[] = [];
  const state = { refused: 0 };
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      void verify(req, body, keys).then((verdict) => {
        const url = new URL(req.url ?? '/', 'http://localhost');
        const reply = (a: ScriptedAnswer) => {
          res.writeHead(a.status, { 'content-type': 'application/json', ...a.headers });
          res.end(JSON.stringify(a.body));
        };
        if (!verdict.ok) {
          state.refused++;
          return reply({
            status: 403,
            headers: { 'x-amzn-errortype': 'InvalidSignatureException' },
            body: {
              message: `The request signature we calculated does not match the signature you provided. (${verdict.why})`,
            },
          });
        }
        const request: SeenRequest = {
          method: req.method ?? '',
          path: url.pathname,
          query: Object.fromEntries(url.searchParams),
          body,
          accessKeyId: verdict.accessKeyId,
        };
        seen.push(request);
        reply(answer(request));
      });
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    seen,
    get refused() {
      return state.refused;
    },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

async function verify(
  req: IncomingMessage,
  body: string,
  keys: AwsCredentialIdentity[],
): Promise<{ ok: true; accessKeyId: string } | { ok: false; why: string }> {
  const match = AUTHORIZATION.exec(String(req.headers.authorization ?? ''));
  if (!match) return { ok: false, why: 'no SigV4 Authorization header' };
  const [, accessKeyId, , region, service, signedHeaders, signature] = match as unknown as string[];
  const key = keys.find((k) => k.accessKeyId === accessKeyId);
  if (!key || service !== 'execute-api') return { ok: false, why: 'unknown key or service' };
  const amzDate = String(req.headers['x-amz-date'] ?? '');
  const date = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/.exec(amzDate);
  if (!date) return { ok: false, why: 'no x-amz-date' };
  const headers: Record<string, string> = {};
  for (const name of (signedHeaders as string).split(';')) headers[name] = String(req.headers[name] ?? '');
  const url = new URL(req.url ?? '/', `http://${req.headers.host}`);
  const query: Record<string, string> = Object.fromEntries(url.searchParams);
  const request = new HttpRequest({
    method: req.method ?? 'GET',
    protocol: 'http:',
    hostname: url.hostname,
    port: Number(url.port),
    // as the SDKs sign it: the path as sent (encoded once), which the signer encodes again
    path: url.pathname,
    query,
    headers,
    ...(body ? { body } : {}),
  });
  const signer = new SignatureV4({
    service: 'execute-api',
    region: region as string,
    credentials: key,
    sha256: Sha256,
  });
  const signingDate = new Date(`${date[1]}-${date[2]}-${date[3]}T${date[4]}:${date[5]}:${date[6]}Z`);
  const expected = await signer.sign(request, { signingDate });
  const recomputed = /Signature=([0-9a-f]{64})$/.exec(String(expected.headers.authorization))?.[1];
  return recomputed === signature ? { ok: true, accessKeyId: accessKeyId as string } : { ok: false, why: 'mismatch' };
}
