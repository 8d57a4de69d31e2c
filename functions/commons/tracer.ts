import { Tracer } from '@aws-lambda-powertools/tracer';
import type { TracerOptions } from '@aws-lambda-powertools/tracer/types';
import type { AnyClient } from '#lib/aws/clients';

/**
 * What the tracer is given: the service name, and, outside Lambda, `enabled: false`. Powertools
 * itself turns tracing off when AWS_EXECUTION_ENV is unset, when POWERTOOLS_TRACE_ENABLED is
 * "false", or under SAM local; but AWS_EXECUTION_ENV is also set where no Lambda runs (CloudShell
 * sets it to "CloudShell"), and an enabled tracer with no segment warns on every call and patches
 * node:http. So it traces only where AWS_LAMBDA_FUNCTION_NAME is set, as the metrics sink decides
 * (functions/commons/metrics.ts): the CLI, `hybridops api serve` and the tests never trace.
 */
export function tracerOptions(env: NodeJS.ProcessEnv): TracerOptions {
  return { serviceName: 'eks-hybrid-ops', ...(env.AWS_LAMBDA_FUNCTION_NAME ? {} : { enabled: false }) };
}

/** The one X-Ray tracer of every handler (Powertools: one Logger, Metrics and Tracer per service). */
export const tracer = new Tracer(tracerOptions(process.env));

/**
 * The ids an invocation is about, as X-Ray annotations (indexed, so a trace can be found by
 * `annotation.requestId = "..."`). The keys are fixed and few; the values are ids, which an
 * annotation may hold (a metric dimension may not: lib/metrics.ts).
 */
const ANNOTATED_IDS = ['requestId', 'fleetId', 'upgradeId'] as const;

/** Annotates the current segment with the ids `subject` names at its top level; a no-op when not tracing. */
export function annotateIds(subject: unknown): void {
  if (!tracer.isTracingEnabled() || typeof subject !== 'object' || subject === null) return;
  for (const key of ANNOTATED_IDS) {
    const value = (subject as Record<string, unknown>)[key];
    if (typeof value === 'string' && value !== '') tracer.putAnnotation(key, value);
  }
}

/** Records each call `client` sends as an X-Ray subsegment (what lib/aws/clients.ts `customize` takes). */
export const traceClient = (client: AnyClient): void => {
  tracer.captureAWSv3Client(client);
};
