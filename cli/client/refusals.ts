import type { SignedAnswer } from './signed-fetch';

/**
 * An API answer that is not a success, as lines for a person: the API's own words (its message,
 * every field problem of a 400, the fix), and for a 403 which identity signed and what it lacks.
 *
 * API Gateway's own 403s with AWS_IAM (x-amzn-errortype AccessDeniedException: "User: <arn> is not
 * authorized to perform: execute-api:Invoke on resource: <arn>"; InvalidSignatureException;
 * MissingAuthenticationTokenException, also sent for a path or method the API has not):
 * https://repost.aws/knowledge-center/api-gateway-troubleshoot-403-forbidden
 */
export function refusalLines(what: string, answer: SignedAnswer, identity: string | undefined): string[] {
  const { message, problems, fix, ...rest } = answer.body as {
    message?: unknown;
    problems?: unknown;
    fix?: unknown;
  } & Record<string, unknown>;
  const lines = [
    `${what} was refused (HTTP ${answer.status}): ${typeof message === 'string' ? message : 'no message'}`,
  ];
  if (Array.isArray(problems)) {
    for (const p of problems as Array<{ field?: string; message?: string } | string>) {
      lines.push(typeof p === 'string' ? `  - ${p}` : `  - ${p.field ? `${p.field}: ` : ''}${p.message ?? ''}`);
    }
  }
  for (const [key, value] of Object.entries(rest)) {
    if (key !== 'requestId' || answer.status >= 500) lines.push(`  ${key}: ${JSON.stringify(value)}`);
  }
  if (typeof fix === 'string') lines.push(`  fix: ${fix}`);
  if (answer.status === 403) lines.push(...forbiddenLines(answer, identity));
  const retry = answer.headers['retry-after'];
  if (retry) lines.push(`  retry after ${retry} s`);
  return lines;
}

function forbiddenLines(answer: SignedAnswer, identity: string | undefined): string[] {
  const signedAs = `  signed as ${identity ?? 'unknown identity'}`;
  const type = (answer.headers['x-amzn-errortype'] ?? '').split(':')[0];
  const message = typeof answer.body.message === 'string' ? answer.body.message : '';
  const resource = /on resource: (\S+)/.exec(message)?.[1];
  if (type === 'AccessDeniedException' || resource) {
    return [
      signedAs,
      `  it lacks execute-api:Invoke on ${resource ?? 'this method'}: allow it in the identity's IAM policy`,
    ];
  }
  if (type === 'InvalidSignatureException' || /signature/i.test(message)) {
    return [
      signedAs,
      '  the signature was not accepted: check the region (--region), the clock, and that the credentials are current',
    ];
  }
  if (type === 'MissingAuthenticationTokenException' || /Missing Authentication Token/.test(message)) {
    return [`  no such method at this URL (API Gateway answers this for an unknown path too): check --api`];
  }
  // The API's own 403 (NotRequesterError): only the identity that submitted the request may do this.
  return [signedAs];
}
