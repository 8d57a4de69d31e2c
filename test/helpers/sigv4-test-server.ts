import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { AwsCredentialIdentity } from '@smithy/types';
import { type Verdict, verifySigV4 } from '#cli/api/sigv4';

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

/**
 * A local HTTP server that checks every request's SigV4 signature as API Gateway's AWS_IAM does,
 * with the verifier of `hybridops api serve` (cli/api/sigv4.ts) and the secrets of `keys`, answers
 * a bad one with API Gateway's 403 (its x-amzn-errortype and message), and passes good ones to
 * `answer`: a scripted API for the client's tests.
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
      const bytes = Buffer.concat(chunks);
      const body = bytes.toString('utf8');
      void verify(req, bytes, keys).then((verdict) => {
        const url = new URL(req.url ?? '/', 'http://localhost');
        const reply = (a: ScriptedAnswer) => {
          res.writeHead(a.status, { 'content-type': 'application/json', ...a.headers });
          res.end(JSON.stringify(a.body));
        };
        if (!verdict.ok) {
          state.refused++;
          return reply({
            status: 403,
            headers: { 'x-amzn-errortype': verdict.errorType },
            body: { message: verdict.message },
          });
        }
        const request: SeenRequest = {
          method: req.method ?? '',
          path: url.pathname,
          query: Object.fromEntries(url.searchParams),
          body,
          accessKeyId: verdict.identity.accessKeyId,
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

/** The product's verifier (cli/api/sigv4.ts, as `hybridops api serve` checks), with `keys` as the identities it knows. */
function verify(req: IncomingMessage, body: Buffer, keys: AwsCredentialIdentity[]): Promise<Verdict> {
  return verifySigV4(
    { method: req.method ?? 'GET', url: req.url ?? '/', headers: req.headers, body },
    (accessKeyId) => {
      const key = keys.find((k) => k.accessKeyId === accessKeyId);
      return key && { ...key, arn: `arn:aws:iam::123456789012:user/${key.accessKeyId}` };
    },
  );
}
