import { S3Client } from '@aws-sdk/client-s3';
import * as z from 'zod';
import { runStoreOf } from '../commons/run-store';
import { taskHandler } from '../commons/task-handler';
import { commitSweep } from '#lib/sweep/commit-sweep';
import { SweepIdSchema } from '#lib/sweep/state';

const Input = z.object({ sweepId: SweepIdSchema });

/** Task CommitSweep: tonight's alert memory replaces the last, once the alerts are out. */
export const { run, handler, clients } = taskHandler(Input, { s3: S3Client }, (input, rt) =>
  commitSweep({ store: runStoreOf(rt) }, { sweepId: input.sweepId }),
);
