import { S3Client } from '@aws-sdk/client-s3';
import * as z from 'zod';
import { summarizeFleet } from '#lib/fleets/summarize-fleet';
import { MemberResultSchema } from '#lib/fleets/state';
import { runStoreOf } from '../commons/run-store';
import { taskHandler } from '../commons/task-handler';

const Input = z.object({
  fleetId: z.string().min(1),
  cluster: z.string().min(1),
  requester: z.string().min(1),
  manifestKey: z.string().min(1),
  resultKey: z.string().min(1),
  results: z.array(MemberResultSchema),
});

/** Task SummarizeFleet: the fleet's counts, its result in the run store, and the one message. */
export const { run, handler, clients } = taskHandler(Input, { s3: S3Client }, (input, rt) =>
  summarizeFleet({ store: runStoreOf(rt), bucket: rt.settings.storeBucket }, input),
);
