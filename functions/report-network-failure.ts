import * as z from 'zod';
import { taskHandler } from '../lib/lambda';
import { reportNetworkFailure } from '../lib/network/report';

const Input = z.object({
  mode: z.string().default('unknown (the input had none)'),
  failure: z.object({ Error: z.string(), Cause: z.string().optional() }),
});

/** Task ReportFailure: the alert for a reconciliation that could not finish. */
export const { run, handler } = taskHandler(Input, async (input, rt) =>
  reportNetworkFailure({ stage: rt.settings.stage, mode: input.mode, failure: input.failure }),
);
