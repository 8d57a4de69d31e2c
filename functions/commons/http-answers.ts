import type { APIGatewayProxyResult } from 'aws-lambda';
import { isTransientAwsError, type RefusalName, RequestRefusedError } from '#lib/errors';
import { logger } from '#lib/logger';

/**
 * Every HTTP answer the API gives, in one place: a handler's result (200, 202), a refusal the
 * domain threw (its status from the table below), and anything else (503 when AWS is throttling
 * or unavailable, else 500), each as the API Gateway proxy result Lambda returns.
 */

/** An API answer, before it is wrapped as an API Gateway proxy result. */
export interface ApiAnswer {
  statusCode: number;
  body: Record<string, unknown>;
  headers?: Record<string, string>;
}

/** The HTTP status of each refusal (RFC 9110, section 15). */
const STATUS_OF_REFUSAL: Record<RefusalName, number> = {
  RequestRejectedError: 400,
  NotRequesterError: 403,
  RequestNotFoundError: 404,
  NodeConfigNotIssuedError: 409,
  ClientTokenReusedError: 409,
  NodeLockedError: 409,
  OnboardingEndedError: 410,
};

export const ok = (body: object, headers?: Record<string, string>): ApiAnswer => ({
  statusCode: 200,
  body: { ...body },
  ...(headers ? { headers } : {}),
});

export const accepted = (body: object, headers?: Record<string, string>): ApiAnswer => ({
  statusCode: 202,
  body: { ...body },
  ...(headers ? { headers } : {}),
});

/** A refusal as its answer: the problem as `message`, what else it lists, then the fix. */
function refusal(error: RequestRefusedError): ApiAnswer {
  return {
    statusCode: STATUS_OF_REFUSAL[error.name as RefusalName] ?? 400,
    body: { message: error.problem, ...error.details, ...(error.fix ? { fix: error.fix } : {}) },
    ...(error.retryAfterSeconds ? { headers: { 'retry-after': String(error.retryAfterSeconds) } } : {}),
  };
}

/** The answer to a request that threw: its refusal, or (logged by name) 503 or 500, starting nothing. */
export function errorAnswer(error: unknown, requestId: string | undefined): ApiAnswer {
  if (error instanceof RequestRefusedError) return refusal(error);
  const e = error instanceof Error ? error : new Error(String(error));
  logger.error('request failed', { errorName: e.name, errorMessage: e.message });
  const transient = isTransientAwsError(e);
  return {
    statusCode: transient ? 503 : 500,
    body: {
      message: transient
        ? 'AWS is throttling or unavailable; nothing was started. Retry shortly.'
        : 'Internal error; nothing was started.',
      requestId,
    },
    ...(transient ? { headers: { 'retry-after': '5' } } : {}),
  };
}

/** An answer as API Gateway takes it from Lambda: a JSON body. */
export const proxyResult = (answer: ApiAnswer): APIGatewayProxyResult => ({
  statusCode: answer.statusCode,
  headers: { 'content-type': 'application/json', ...answer.headers },
  body: JSON.stringify(answer.body),
});
