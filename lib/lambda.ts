import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import middy from '@middy/core';
import type { APIGatewayProxyEvent, APIGatewayProxyResult, Context } from 'aws-lambda';
import type * as z from 'zod';
import { AwsTransientError, HybridOpsError, InvalidRequestError, isTransientAwsError } from './errors';
import { logger } from './logger';
import type { ApiAnswer } from './api-answer';
import { type ClientClasses, explainUnreachable, type ServiceName } from './aws/clients';
import { handlerRuntime, type NodeAccess, type Runtime } from './runtime';

/**
 * Logs a failure by name and message only (never the event), and turns throttling, 5xx and
 * network faults into {@link AwsTransientError} so every workflow retries one name; one that
 * never connected to AWS says what route is missing.
 */
const errorNormaliser = (): middy.MiddlewareObj => ({
  onError: async (request) => {
    const error = request.error;
    if (!error) return;
    const unreachable = explainUnreachable(error);
    if (unreachable) {
      // Still retried as transient (a connection can fail for a moment), but the alert says why.
      request.error = new AwsTransientError(unreachable.problem, unreachable.fix, { cause: error });
    } else if (!(error instanceof HybridOpsError) && isTransientAwsError(error)) {
      request.error = new AwsTransientError(
        `AWS answered ${error.name}: ${error.message}`,
        'None needed; the step is retried.',
        {
          cause: error,
        },
      );
    }
    const final = request.error ?? error;
    logger.error('task failed', { errorName: final.name, errorMessage: final.message });
  },
});

/**
 * The SDK clients a handler declared, as test/infra/bundles.test.ts checks its bundle against:
 * those it sends commands with, and those whose credentials alone it uses (node access signs the
 * EKS token with the STS client's).
 */
export interface DeclaredClients {
  sends: ServiceName[];
  credentialsOf: ServiceName[];
}
const declared = (classes: Partial<ClientClasses>, nodes?: NodeAccess): DeclaredClients => {
  const sends = (Object.keys(classes) as ServiceName[]).sort();
  const credentialsOf = (Object.keys(nodes?.clients ?? {}) as ServiceName[]).filter((s) => !sends.includes(s));
  return { sends, credentialsOf };
};

/**
 * A Step Functions Task handler: validates its input with `schema` (a failure is
 * {@link InvalidRequestError}, which is not retried), then calls `fn` with the runtime.
 * `clients` are the SDK client classes `fn` calls (its bundle carries those and no others).
 * `run` is exported for tests; `handler` is the middy chain Lambda calls.
 */
export function taskHandler<S extends z.ZodType, K extends ServiceName, O>(
  schema: S,
  clients: ClientClasses<K>,
  fn: (input: z.output<S>, rt: Runtime<K>) => Promise<O>,
  options: { nodes?: NodeAccess } = {},
) {
  const runtime = handlerRuntime(clients, options.nodes);
  const run = async (event: unknown, rt: Runtime<K> = runtime()): Promise<O> => {
    const parsed = schema.safeParse(event);
    if (!parsed.success) {
      const problems = parsed.error.issues.map((i) => `${i.path.join('.') || '(input)'}: ${i.message}`).join('; ');
      throw new InvalidRequestError(
        `The task input is malformed: ${problems}.`,
        'Start the workflow with the documented input.',
      );
    }
    return fn(parsed.data, rt);
  };
  const handler = middy<unknown, O, Error, Context>(async (event: unknown) => run(event))
    .use(injectLambdaContext(logger, { resetKeys: true }))
    .use(errorNormaliser());
  return { run, handler, clients: declared(clients, options.nodes) };
}

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
