import * as z from 'zod';
import { taskHandler } from '../lib/lambda';
import { sweepFailure } from '../lib/sweep/night';
import { CaughtErrorSchema } from '../lib/sweep/state';

const Input = z.object({ failure: CaughtErrorSchema });

/** Task ReportFailure: the alert for a sweep that could not finish. */
export const { run, handler } = taskHandler(Input, async (input, rt) =>
  sweepFailure({ stage: rt.settings.stage, failure: input.failure }),
);
