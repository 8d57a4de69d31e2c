import { Sha256 } from '@aws-crypto/sha256-js';
import { defaultProvider } from '@aws-sdk/credential-provider-node';
import { HttpRequest } from '@smithy/protocol-http';
import { SignatureV4 } from '@smithy/signature-v4';
import type { AwsCredentialIdentity, Provider } from '@smithy/types';

/**
 * Requests to the deployed API (every method is `AWS_IAM`), signed with SigV4 for the service
 * `execute-api` by the SDK's own signer (@smithy/signature-v4), with credentials from the SDK's
 * default chain (env, profile, SSO, web identity, ECS/EC2 role). No crypto of our own.
 * https://docs.aws.amazon.com/apigateway/latest/developerguide/permissions.html
 */

/** The signing name of API Gateway's invoke API (`execute-api:Invoke`). */
export const EXECUTE_API = 'execute-api';

export type Credentials = AwsCredentialIdentity | Provider<AwsCredentialIdentity>;

export interface SignedFetchOptions {
  region: string;
  /** Default: the SDK's credential chain (`defaultProvider()`). */
  credentials?: Credentials;
  /** The signing time (tests); default now. */
  signingDate?: Date;
}

export interface SignedAnswer {
  status: number;
  headers: Record<string, string>;
  /** The body as JSON, or `{ message: <text> }` when it is not JSON (a proxy's HTML page, say). */
  body: Record<string, unknown>;
}

/**
 * The region of an execute-api URL (`https://{api-id}.execute-api.{region}.amazonaws.com/{stage}`,
 * https://docs.aws.amazon.com/apigateway/latest/developerguide/how-to-call-api.html), or undefined
 * for any other host (a custom domain, `hybridops api serve` on localhost).
 */
export function regionOfApiUrl(url: string): string | undefined {
  return /^[a-z0-9]+\.execute-api\.([a-z0-9-]+)\.amazonaws\.com(\.cn)?$/.exec(new URL(url).hostname)?.[1];
}

/**
 * The request `method url` with `body`, signed: the headers to send (host, x-amz-date,
 * authorization, and x-amz-security-token for temporary credentials).
 */
export async function signRequest(
  method: string,
  url: string,
  body: string | undefined,
  options: SignedFetchOptions,
): Promise<HttpRequest> {
  const target = new URL(url);
  const query: Record<string, string | string[]> = {};
  for (const [key, value] of target.searchParams) {
    const seen = query[key];
    query[key] = seen === undefined ? value : [...(Array.isArray(seen) ? seen : [seen]), value];
  }
  const request = new HttpRequest({
    method,
    protocol: target.protocol,
    hostname: target.hostname,
    ...(target.port ? { port: Number(target.port) } : {}),
    path: target.pathname,
    query,
    headers: {
      host: target.host,
      accept: 'application/json',
      ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
    },
    ...(body !== undefined ? { body } : {}),
  });
  const signer = new SignatureV4({
    service: EXECUTE_API,
    region: options.region,
    credentials: options.credentials ?? defaultProvider(),
    sha256: Sha256,
  });
  return (await signer.sign(request, options.signingDate ? { signingDate: options.signingDate } : {})) as HttpRequest;
}

/** Sends `method url` (with a JSON `body`) signed with SigV4 for execute-api, and reads the JSON answer. */
export async function signedFetch(
  method: string,
  url: string,
  body: string | undefined,
  options: SignedFetchOptions,
): Promise<SignedAnswer> {
  const signed = await signRequest(method, url, body, options);
  // fetch sets Host from the URL (the same value that was signed); it may not be set by hand.
  const { host: _host, ...headers } = signed.headers;
  const response = await fetch(url, { method, headers, ...(body !== undefined ? { body } : {}) });
  const text = await response.text();
  let parsed: Record<string, unknown>;
  try {
    const json = JSON.parse(text) as unknown;
    parsed =
      json && typeof json === 'object' && !Array.isArray(json) ? (json as Record<string, unknown>) : { value: json };
  } catch {
    parsed = { message: text.trim() || response.statusText };
  }
  return { status: response.status, headers: Object.fromEntries(response.headers), body: parsed };
}
