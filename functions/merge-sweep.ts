import * as z from 'zod';
import { taskHandler } from '../lib/lambda';
import { mergeStep } from '../lib/sweep/night';
import { CheckOutcomeSchema, SweepIdSchema } from '../lib/sweep/state';
import { objectUri, runKeys, s3SweepStore } from '../lib/sweep/store';

const Input = z.object({
  sweepId: SweepIdSchema,
  outcomes: z.array(CheckOutcomeSchema).min(1, 'outcomes must hold the result of each check'),
});

/** Task Merge: tonight's findings against what operators were told before; composes the alerts. */
export const { run, handler } = taskHandler(Input, (input, rt) =>
  mergeStep(
    { store: s3SweepStore(rt.clients.s3, rt.settings.sweepBucket) },
    {
      sweepId: input.sweepId,
      stage: rt.settings.stage,
      now: rt.clock.now(),
      outcomes: input.outcomes,
      reportUri: objectUri(rt.settings.sweepBucket, runKeys(input.sweepId).report),
    },
  ),
);
