import { createHash, createHmac, timingSafeEqual } from 'node:crypto';
import { HttpRequest } from '@smithy/protocol-http';
import { SignatureV4 } from '@smithy/signature-v4';
import type { Checksum, SourceData } from '@smithy/types';

/**
 * SigV4 verification as API Gateway's AWS_IAM authorization does it, for `hybridops api serve`:
 * the signature is recomputed with the SDK's own signer (@smithy/signature-v4) from the request as
 * it arrived (method, path, query, the headers named in SignedHeaders, the body's SHA-256) and the
 * secret of the access key it names. Sources: "Create a signed AWS API request"
 * (https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_sigv4-signed-request.html), "Control
 * access to an API with IAM permissions" (https://docs.aws.amazon.com/apigateway/latest/developerguide/permissions.html),
 * and API Gateway's 403 messages as its callers report them (aws-amplify/aws-sdk-android#253,
 * mhart/aws4#118).
 */

/** Credentials the local server knows the secret of, and the identity API Gateway would report for them. */
export interface LocalIdentity {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken?: string;
  /** `requestContext.identity.userArn`. */
  arn: string;
}

export interface ArrivedRequest {
  method: string;
  /** The request target as sent: path and query, percent-encoded. */
  url: string;
  /** Lower-case names, as node:http gives them. */
  headers: Record<string, string | string[] | undefined>;
  body: Buffer;
}

export type Verdict = { ok: true; identity: LocalIdentity } | { ok: false; errorType: string; message: string };

/** API Gateway takes a signature dated up to 5 minutes either side of its clock ("- 5 min." in its 403s). */
export const SIGNATURE_WINDOW_MS = 5 * 60_000;

const SIGNATURE_MISMATCH =
  'The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method. Consult the service documentation for details.';

/** node:crypto's SHA-256 and HMAC-SHA-256 as the signer's hash constructor. */
class Sha256 implements Checksum {
  private hash: ReturnType<typeof createHash> | ReturnType<typeof createHmac>;
  constructor(private readonly secret?: SourceData) {
    this.hash = this.fresh();
  }
  private fresh() {
    return this.secret ? createHmac('sha256', bytes(this.secret)) : createHash('sha256');
  }
  update(data: Uint8Array): void {
    this.hash.update(data);
  }
  async digest(): Promise<Uint8Array> {
    return new Uint8Array(this.hash.digest());
  }
  reset(): void {
    this.hash = this.fresh();
  }
}

function bytes(data: SourceData): Buffer {
  if (typeof data === 'string') return Buffer.from(data, 'utf8');
  if (ArrayBuffer.isView(data)) return Buffer.from(data.buffer, data.byteOffset, data.byteLength);
  return Buffer.from(data);
}

const header = (request: ArrivedRequest, name: string): string | undefined => {
  const value = request.headers[name];
  return Array.isArray(value) ? value.join(',') : value;
};

const refuse = (errorType: string, message: string): Verdict => ({ ok: false, errorType, message });

/** `20261201T003000Z` as a Date, or undefined. */
function amzDate(text: string): Date | undefined {
  const m = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/.exec(text);
  if (!m) return undefined;
  const [, y, mo, d, h, mi, s] = m.map(Number) as number[];
  return new Date(Date.UTC(y ?? 0, (mo ?? 1) - 1, d, h, mi, s));
}
const formatted = (date: Date) =>
  date
    .toISOString()
    .replace(/[-:]/g, '')
    .replace(/\.\d{3}/, '');

/**
 * Whether `request` is correctly signed by one of the identities `lookup` knows, at `now`: the
 * identity when it is, API Gateway's 403 (its `x-amzn-ErrorType` and message) when not.
 */
export async function verifySigV4(
  request: ArrivedRequest,
  lookup: (accessKeyId: string) => LocalIdentity | undefined,
  now: Date = new Date(),
): Promise<Verdict> {
  const authorization = header(request, 'authorization');
  if (!authorization) return refuse('MissingAuthenticationTokenException', 'Missing Authentication Token');
  const [algorithm, ...rest] = authorization.trim().split(/\s+/);
  const fields = Object.fromEntries(
    rest
      .join(' ')
      .split(',')
      .map((part) => part.trim().split('=') as [string, string?])
      .filter(([key, value]) => key && value !== undefined),
  ) as Record<string, string>;
  const missing = ['Credential', 'Signature', 'SignedHeaders'].filter((key) => !fields[key]);
  if (algorithm !== 'AWS4-HMAC-SHA256' || missing.length) {
    const said = missing.map((key) => `Authorization header requires '${key}' parameter.`).join(' ');
    return refuse(
      'IncompleteSignatureException',
      `${said || 'Unsupported Authorization Type'} Authorization=${authorization}`,
    );
  }
  const date = header(request, 'x-amz-date');
  const signedAt = date ? amzDate(date) : undefined;
  if (!date || !signedAt) {
    return refuse(
      'IncompleteSignatureException',
      `Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header. Authorization=${authorization}`,
    );
  }
  const [accessKeyId = '', day, region = '', service, terminator] = (fields.Credential ?? '').split('/');
  if (service !== 'execute-api' || terminator !== 'aws4_request') {
    return refuse('InvalidSignatureException', "Credential should be scoped to correct service: 'execute-api'. ");
  }
  if (day !== date.slice(0, 8)) {
    return refuse(
      'InvalidSignatureException',
      `Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date from HTTP: '${day}' != '${date.slice(0, 8)}', from '${date}'.`,
    );
  }
  const skew = signedAt.getTime() - now.getTime();
  if (skew < -SIGNATURE_WINDOW_MS) {
    const earliest = new Date(now.getTime() - SIGNATURE_WINDOW_MS);
    return refuse(
      'InvalidSignatureException',
      `Signature expired: ${date} is now earlier than ${formatted(earliest)} (${formatted(now)} - 5 min.)`,
    );
  }
  if (skew > SIGNATURE_WINDOW_MS) {
    const latest = new Date(now.getTime() + SIGNATURE_WINDOW_MS);
    return refuse(
      'InvalidSignatureException',
      `Signature not yet current: ${date} is still later than ${formatted(latest)} (${formatted(now)} + 5 min.)`,
    );
  }
  const signedHeaders = (fields.SignedHeaders ?? '').split(';');
  if (!signedHeaders.includes('host')) {
    return refuse(
      'InvalidSignatureException',
      "'Host' or ':authority' must be a 'SignedHeader' in the AWS Authorization.",
    );
  }
  const identity = lookup(accessKeyId);
  if (!identity) return refuse('UnrecognizedClientException', 'The security token included in the request is invalid.');
  // The payload hash a client states must be the body's: the signer takes a stated one as given.
  const bodyHash = createHash('sha256').update(request.body).digest('hex');
  const stated = header(request, 'x-amz-content-sha256');
  if (stated !== undefined && stated !== bodyHash) return refuse('InvalidSignatureException', SIGNATURE_MISMATCH);

  const url = new URL(request.url, 'http://local');
  const query: Record<string, string | string[]> = {};
  for (const [key, value] of url.searchParams) {
    const had = query[key];
    query[key] = had === undefined ? value : [...(Array.isArray(had) ? had : [had]), value];
  }
  const headers = Object.fromEntries(signedHeaders.map((name) => [name, header(request, name) ?? '']));
  const signer = new SignatureV4({
    service: 'execute-api',
    region,
    credentials: identity,
    sha256: Sha256,
    uriEscapePath: true,
    // Add no x-amz-content-sha256 of its own: the canonical request holds the headers the client signed.
    applyChecksum: false,
  });
  const resigned = await signer.sign(
    new HttpRequest({
      method: request.method,
      protocol: 'http:',
      hostname: header(request, 'host') ?? '',
      path: url.pathname.split('/').map(decodeURIComponent).join('/'),
      query,
      headers,
      body: request.body,
    }),
    // Exactly the headers the client signed, even one the SDK would leave out (user-agent).
    { signingDate: signedAt, signableHeaders: new Set(signedHeaders) },
  );
  const expected = /Signature=([0-9a-f]+)/.exec(String(resigned.headers.authorization ?? ''))?.[1] ?? '';
  const given = fields.Signature ?? '';
  const same =
    expected.length === given.length && timingSafeEqual(Buffer.from(expected, 'utf8'), Buffer.from(given, 'utf8'));
  return same ? { ok: true, identity } : refuse('InvalidSignatureException', SIGNATURE_MISMATCH);
}
