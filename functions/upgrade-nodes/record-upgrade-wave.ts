import { S3Client } from '@aws-sdk/client-s3';
import * as z from 'zod';
import { NodeOutcomeSchema, UPGRADE_ID } from '#lib/upgrades/state';
import { recordUpgradeWave } from '#lib/upgrades/waves';
import { runStoreOf } from '../commons/run-store';
import { taskHandler } from '../commons/task-handler';

const Input = z.object({
  upgradeId: z.string().regex(UPGRADE_ID),
  waveCount: z.number().int().min(1),
  wave: z.object({ index: z.number().int().min(0), results: z.array(NodeOutcomeSchema) }),
});

/** Task RecordUpgradeWave: the wave's node outcomes into the run store; whether the rollout goes on. */
export const { run, handler, clients } = taskHandler(Input, { s3: S3Client }, (input, rt) =>
  recordUpgradeWave({ store: runStoreOf(rt) }, input),
);
