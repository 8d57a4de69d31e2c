import { S3Client } from '@aws-sdk/client-s3';
import * as z from 'zod';
import { runStoreOf } from '../commons/run-store';
import { taskHandler } from '../commons/task-handler';
import { probeBatch } from '#lib/sweep/probe-batch';
import { SweepIdSchema } from '#lib/sweep/state';

const Input = z
  .object({
    sweepId: SweepIdSchema,
    batch: z
      .string()
      .regex(/^runs\/[\w-]+\/targets\/\d{4}\.json$/, 'batch must be a key the SweepInventory step returned'),
  })
  .refine((i) => i.batch.startsWith(`runs/${i.sweepId}/`), {
    message: "batch must be one of this sweep's batches (runs/<sweepId>/targets/NNNN.json)",
    path: ['batch'],
  });

/**
 * Task ProbeBatch (one per Map item): TCP connect samples to each target of one batch.
 * Meaningful in the cluster VPC (params connectivityProbes, vpcSubnetIds, vpcSecurityGroupIds).
 */
export const { run, handler, clients } = taskHandler(Input, { s3: S3Client }, (input, rt) =>
  probeBatch(
    { prober: rt.prober, store: runStoreOf(rt) },
    { sweepId: input.sweepId, batch: input.batch, enabled: rt.settings.connectivityProbes ?? false },
  ),
);
