import { S3Client } from '@aws-sdk/client-s3';
import * as z from 'zod';
import { prepareMember } from '#lib/fleets/prepare-member';
import { FleetMemberRefSchema } from '#lib/fleets/state';
import { runStoreOf } from '../commons/run-store';
import { taskHandler } from '../commons/task-handler';

const Input = z.object({
  fleetId: z.string().min(1),
  manifestKey: z.string().min(1),
  requestDigest: z.string().min(1),
  member: FleetMemberRefSchema,
});

/** Task PrepareMember: one server's onboard-node input, from the fleet's manifest. */
export const { run, handler, clients } = taskHandler(Input, { s3: S3Client }, (input, rt) =>
  prepareMember({ store: runStoreOf(rt) }, input),
);
