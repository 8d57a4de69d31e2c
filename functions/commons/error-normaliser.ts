import type middy from '@middy/core';
import { explainUnreachable } from '#lib/aws/clients';
import { AwsTransientError, HybridOpsError, isTransientAwsError } from '#lib/errors';
import { logger } from '#lib/logger';

/**
 * Logs a failure by name and message only (never the event), and turns throttling, 5xx and
 * network faults into {@link AwsTransientError} so every workflow retries one name; one that
 * never connected to AWS says what route is missing.
 */
export const errorNormaliser = (): middy.MiddlewareObj => ({
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
