import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import middy from '@middy/core';
import type { APIGatewayProxyEvent, APIGatewayProxyResult, Context } from 'aws-lambda';
import type { ApiAnswer } from '../../lib/api-answer';
import type { ClientClasses, ServiceName } from '../../lib/aws/clients';
import { isTransientAwsError } from '../../lib/errors';
import { logger } from '../../lib/logger';
import type { Runtime } from '../../lib/runtime';
import { declared } from './declared-clients';
import { handlerRuntime } from './runtime';

/**
 * Wraps an {@link ApiAnswer}-returning function as an API Gateway (REST, proxy) handler that
 * calls the SDK clients `clients` (as {@link taskHandler}).
 */
export function apiHandler<K extends ServiceName>(
  clients: ClientClasses<K>,
  fn: (event: APIGatewayProxyEvent, rt: Runtime<K>) => Promise<ApiAnswer>,
) {
  const runtime = handlerRuntime(clients);
  const run = async (event: APIGatewayProxyEvent, rt: Runtime<K> = runtime()): Promise<APIGatewayProxyResult> => {
    try {
      const answer = await fn(event, rt);
      return {
        statusCode: answer.statusCode,
        headers: { 'content-type': 'application/json', ...answer.headers },
        body: JSON.stringify(answer.body),
      };
    } catch (error) {
      const e = error instanceof Error ? error : new Error(String(error));
      logger.error('request failed', { errorName: e.name, errorMessage: e.message });
      const transient = isTransientAwsError(e);
      return {
        statusCode: transient ? 503 : 500,
        headers: { 'content-type': 'application/json', ...(transient ? { 'retry-after': '5' } : {}) },
        body: JSON.stringify({
          message: transient
            ? 'AWS is throttling or unavailable; nothing was started. Retry shortly.'
            : 'Internal error; nothing was started.',
          requestId: event.requestContext?.requestId,
        }),
      };
    }
  };
  const handler = middy<APIGatewayProxyEvent, APIGatewayProxyResult, Error, Context>(
    async (event: APIGatewayProxyEvent) => run(event),
  ).use(injectLambdaContext(logger, { resetKeys: true }));
  return { run, handler, clients: declared(clients) };
}
