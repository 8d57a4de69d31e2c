import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { captureLambdaHandler } from '@aws-lambda-powertools/tracer/middleware';
import middy from '@middy/core';
import type { Context } from 'aws-lambda';
import type * as z from 'zod';
import type { ClientClasses, ServiceName } from '#lib/aws/clients';
import { InvalidRequestError } from '#lib/errors';
import { logger } from '#lib/logger';
import type { MetricPoint } from '#lib/metrics';
import type { NodeAccess, Runtime } from '#lib/runtime';
import { declared } from './declared-clients';
import { errorNormaliser } from './error-normaliser';
import { flushMetrics } from './metrics';
import { handlerRuntime } from './runtime';
import { annotateIds, tracer } from './tracer';

/**
 * A Step Functions Task handler: validates its input with `schema` (a failure is
 * {@link InvalidRequestError}, which is not retried), then calls `fn` with the runtime.
 * `clients` are the SDK client classes `fn` calls (its bundle carries those and no others).
 * `options.metrics` names the metrics a successful invocation emits (lib/metrics.ts), flushed as
 * EMF at its end. In Lambda each invocation is an X-Ray subsegment annotated with the request,
 * fleet or upgrade id its input names (./tracer.ts). `run` is exported for tests; `handler` is the
 * middy chain Lambda calls.
 */
export function taskHandler<S extends z.ZodType, K extends ServiceName, O>(
  schema: S,
  clients: ClientClasses<K>,
  fn: (input: z.output<S>, rt: Runtime<K>) => Promise<O>,
  options: { nodes?: NodeAccess; metrics?: (input: z.output<S>, output: O) => MetricPoint[] } = {},
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
    annotateIds(parsed.data);
    const output = await fn(parsed.data, rt);
    if (options.metrics) flushMetrics(options.metrics(parsed.data, output), rt);
    return output;
  };
  const handler = middy<unknown, O, Error, Context>(async (event: unknown) => run(event))
    // Not the response: a Task's output is workflow state, which the trace need not copy.
    .use(captureLambdaHandler(tracer, { captureResponse: false }))
    .use(injectLambdaContext(logger, { resetKeys: true }))
    .use(errorNormaliser());
  return { run, handler, clients: declared(clients, options.nodes) };
}
