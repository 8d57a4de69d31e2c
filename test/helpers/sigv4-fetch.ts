import { createHash, createHmac } from 'node:crypto';
import { HttpRequest } from '@smithy/protocol-http';
import { SignatureV4 } from '@smithy/signature-v4';
import type { SourceData } from '@smithy/types';

/** SHA-256 and HMAC-SHA-256 for the SDK's signer, as a client would pass them (here from node:crypto). */
class Sha256 {
  private readonly parts: Buffer[] = [];
  constructor(private readonly secret?: SourceData) {}
  update(data: Uint8Array) {
    this.parts.push(Buffer.from(data));
  }
  async digest() {
    const body = Buffer.concat(this.parts);
    const key = this.secret === undefined ? undefined : Buffer.from(this.secret as Uint8Array);
    return new Uint8Array(
      key ? createHmac('sha256', key).update(body).digest() : createHash('sha256').update(body).digest(),
    );
  }
}

export interface TestCredentials {
  accessKeyId: string;
  secretAccessKey: string;
}

/** A request to the local API signed with SigV4 (service execute-api) by the SDK's signer; unsigned without credentials. */
export async function signedFetch(
  base: string,
  method: string,
  path: string,
  options: { credentials?: TestCredentials; body?: unknown; region?: string } = {},
): Promise<{ status: number; body: Record<string, unknown>; headers: Headers }> {
  const url = new URL(path, base);
  const body = options.body === undefined ? undefined : JSON.stringify(options.body);
  const headers: Record<string, string> = { host: url.host, ...(body ? { 'content-type': 'application/json' } : {}) };
  let sent = headers;
  if (options.credentials) {
    const signer = new SignatureV4({
      service: 'execute-api',
      region: options.region ?? 'ap-northeast-2',
      credentials: options.credentials,
      sha256: Sha256,
      uriEscapePath: true,
    });
    const signed = await signer.sign(
      new HttpRequest({
        method,
        protocol: url.protocol,
        hostname: url.hostname,
        port: Number(url.port),
        path: url.pathname,
        query: Object.fromEntries(url.searchParams),
        headers,
        body,
      }),
    );
    sent = signed.headers;
  }
  const { host: _host, ...rest } = sent;
  const response = await fetch(url, { method, headers: rest, body });
  const text = await response.text();
  return {
    status: response.status,
    body: text ? (JSON.parse(text) as Record<string, unknown>) : {},
    headers: response.headers,
  };
}
