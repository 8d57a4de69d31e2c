import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { captureLambdaHandler } from '@aws-lambda-powertools/tracer/middleware';
import middy from '@middy/core';
import type { APIGatewayProxyEvent, APIGatewayProxyResult, Context } from 'aws-lambda';
import type { ClientClasses, ServiceName } from '#lib/aws/clients';
import { logger } from '#lib/logger';
import type { MetricPoint } from '#lib/metrics';
import type { NodeAccess, Runtime } from '#lib/runtime';
import { declared } from './declared-clients';
import { type ApiAnswer, errorAnswer, proxyResult } from './http-answers';
import { flushMetrics } from './metrics';
import { handlerRuntime } from './runtime';
import { annotateIds, tracer } from './tracer';

/**
 * Wraps an {@link ApiAnswer}-returning function as an API Gateway (REST, proxy) handler that
 * calls the SDK clients `clients` (as the Task handlers do; `options.nodes` for one that reads
 * Kubernetes Nodes); what it throws is answered by {@link errorAnswer}. `options.metrics` names
 * the metrics an answer emits (lib/metrics.ts), flushed as EMF at the end of the invocation.
 * In Lambda each invocation is an X-Ray subsegment annotated with the id its path or its answer
 * names (./tracer.ts), so one onboarding's trace is found from the id the client was given.
 */
export function apiHandler<K extends ServiceName>(
  clients: ClientClasses<K>,
  fn: (event: APIGatewayProxyEvent, rt: Runtime<K>) => Promise<ApiAnswer>,
  options: { nodes?: NodeAccess; metrics?: (answer: ApiAnswer) => MetricPoint[] } = {},
) {
  const runtime = handlerRuntime(clients, options.nodes);
  const run = async (event: APIGatewayProxyEvent, rt: Runtime<K> = runtime()): Promise<APIGatewayProxyResult> => {
    // A GET's path names the request; DELETE /nodes/{requestId} names a node (its answer, the request).
    if (event.httpMethod === 'GET') annotateIds(event.pathParameters);
    try {
      const answer = await fn(event, rt);
      annotateIds(answer.body);
      if (options.metrics) flushMetrics(options.metrics(answer), rt);
      return proxyResult(answer);
    } catch (error) {
      return proxyResult(errorAnswer(error, event.requestContext?.requestId));
    }
  };
  const handler = middy<APIGatewayProxyEvent, APIGatewayProxyResult, Error, Context>(
    async (event: APIGatewayProxyEvent) => run(event),
  )
    // Never the response: GET .../nodeconfig answers with the activation code.
    .use(captureLambdaHandler(tracer, { captureResponse: false }))
    .use(injectLambdaContext(logger, { resetKeys: true }));
  return { run, handler, clients: declared(clients, options.nodes) };
}
