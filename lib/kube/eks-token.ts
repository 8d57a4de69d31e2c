import { Sha256 } from '@aws-crypto/sha256-js';
import { HttpRequest } from '@smithy/protocol-http';
import { SignatureV4 } from '@smithy/signature-v4';
import type { AwsCredentialIdentity } from '@smithy/types';

/** Seconds the presigned URL is valid for; EKS accepts tokens for about 15 minutes after signing. */
export const TOKEN_PRESIGN_SECONDS = 60;

export interface TokenInput {
  clusterName: string;
  region: string;
  credentials: AwsCredentialIdentity;
  signingDate?: Date;
}

/**
 * An EKS bearer token, as `aws eks get-token` makes it: a presigned STS GetCallerIdentity URL on
 * the regional endpoint with the `x-k8s-aws-id` header SIGNED (not hoisted into the query string,
 * or EKS cannot tie the token to the cluster), base64url-encoded without padding, after
 * `k8s-aws-v1.`.
 */
export async function createEksToken(input: TokenInput): Promise<string> {
  const hostname = `sts.${input.region}.amazonaws.com`;
  const signer = new SignatureV4({
    service: 'sts',
    region: input.region,
    credentials: input.credentials,
    sha256: Sha256,
  });
  const request = new HttpRequest({
    method: 'GET',
    protocol: 'https:',
    hostname,
    path: '/',
    query: { Action: 'GetCallerIdentity', Version: '2011-06-15' },
    headers: { host: hostname, 'x-k8s-aws-id': input.clusterName },
  });
  const signed = await signer.presign(request, {
    expiresIn: TOKEN_PRESIGN_SECONDS,
    signingDate: input.signingDate,
    unhoistableHeaders: new Set(['x-k8s-aws-id']),
  });
  const query = Object.entries(signed.query ?? {})
    .flatMap(([key, value]) => (Array.isArray(value) ? value : [value]).map((v) => [key, v ?? ''] as const))
    .map(([key, value]) => `${encodeURIComponent(key)}=${encodeURIComponent(value)}`)
    .join('&');
  const url = `https://${hostname}/?${query}`;
  return `k8s-aws-v1.${Buffer.from(url, 'utf8').toString('base64url')}`;
}
