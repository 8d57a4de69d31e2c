import { S3Client } from '@aws-sdk/client-s3';
import * as z from 'zod';
import { runStoreOf } from '../commons/run-store';
import { taskHandler } from '../commons/task-handler';
import { mergeSweep } from '#lib/sweep/merge-sweep';
import { sweepFindingsMetrics } from '#lib/sweep/metrics';
import { CheckOutcomeSchema, SweepIdSchema } from '#lib/sweep/state';
import { runKeys } from '#lib/sweep/store';
import { objectUri } from '#lib/store';

const Input = z.object({
  sweepId: SweepIdSchema,
  outcomes: z.array(CheckOutcomeSchema).min(1, 'outcomes must hold the result of each check'),
});

/** Task MergeSweep: tonight's findings against what operators were told before; composes the alerts. */
export const { run, handler, clients } = taskHandler(
  Input,
  { s3: S3Client },
  (input, rt) =>
    mergeSweep(
      { store: runStoreOf(rt) },
      {
        sweepId: input.sweepId,
        stage: rt.settings.stage,
        now: rt.clock.now(),
        outcomes: input.outcomes,
        reportUri: objectUri(rt.settings.storeBucket, runKeys(input.sweepId).report),
      },
    ),
  { metrics: (_input, report) => sweepFindingsMetrics(report) },
);
