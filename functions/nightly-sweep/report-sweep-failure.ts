import { S3Client } from '@aws-sdk/client-s3';
import * as z from 'zod';
import { runStoreOf } from '../commons/run-store';
import { taskHandler } from '../commons/task-handler';
import { failedSweepStep, reportSweepFailure } from '#lib/sweep/report-sweep-failure';
import { CaughtErrorSchema } from '#lib/caught-error';
import { PublishedAlertSchema, SweepIdSchema } from '#lib/sweep/state';

/** The whole state of the night, as far as it got (this Task has no Parameters). */
const Input = z.object({
  inventory: z.object({ sweepId: SweepIdSchema }).optional(),
  report: z.object({ alertCount: z.number().int().min(0) }).optional(),
  published: z.object({ alerts: z.array(PublishedAlertSchema) }).optional(),
  failure: CaughtErrorSchema,
});

/** Task ReportSweepFailure: the alert for a sweep that could not finish, saying truly how far it got. */
export const { run, handler, clients } = taskHandler(Input, { s3: S3Client }, (input, rt) =>
  reportSweepFailure(
    // Best effort: without a store the alert still goes out, saying what it could not tell.
    { store: rt.settings.storeBucket ? runStoreOf(rt) : undefined },
    {
      stage: rt.settings.stage,
      failure: input.failure,
      sweepId: input.inventory?.sweepId,
      step: failedSweepStep(input),
      alertCount: input.report?.alertCount,
      published: input.published?.alerts,
    },
  ),
);
