import * as z from 'zod';
import { taskHandler } from '../lib/lambda';
import { commitStep } from '../lib/sweep/night';
import { SweepIdSchema } from '../lib/sweep/state';
import { s3SweepStore } from '../lib/sweep/store';

const Input = z.object({ sweepId: SweepIdSchema });

/** Task Remember: tonight's alert memory replaces the last, once the alerts are out. */
export const { run, handler } = taskHandler(Input, (input, rt) =>
  commitStep({ store: s3SweepStore(rt.clients.s3, rt.settings.sweepBucket) }, { sweepId: input.sweepId }),
);
