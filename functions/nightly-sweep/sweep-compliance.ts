import { S3Client } from '@aws-sdk/client-s3';
import * as z from 'zod';
import { runStoreOf } from '../commons/run-store';
import { taskHandler } from '../commons/task-handler';
import { sweepCompliance } from '#lib/sweep/sweep-compliance';
import { SweepIdSchema } from '#lib/sweep/state';

const Input = z.object({ sweepId: SweepIdSchema });

/** Task SweepCompliance: OS support, activations, orphans, remote networks, EFS, insights. */
export const { run, handler, clients } = taskHandler(Input, { s3: S3Client }, (input, rt) =>
  sweepCompliance({ store: runStoreOf(rt) }, { sweepId: input.sweepId, now: rt.clock.now() }),
);
