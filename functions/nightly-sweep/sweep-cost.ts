import { CostExplorerClient } from '@aws-sdk/client-cost-explorer';
import { S3Client } from '@aws-sdk/client-s3';
import * as z from 'zod';
import { runStoreOf } from '../commons/run-store';
import { taskHandler } from '../commons/task-handler';
import { costMetrics } from '#lib/sweep/metrics';
import { sweepCost } from '#lib/sweep/sweep-cost';
import { SweepIdSchema } from '#lib/sweep/state';

const Input = z.object({ sweepId: SweepIdSchema });

/** Task SweepCost: Cost Explorer month to date and forecast, against what the hybrid Nodes explain. */
export const { run, handler, clients } = taskHandler(
  Input,
  { ce: CostExplorerClient, s3: S3Client },
  (input, rt) =>
    sweepCost({ ce: rt.clients.ce, store: runStoreOf(rt) }, { sweepId: input.sweepId, now: rt.clock.now() }),
  { metrics: (_input, part) => costMetrics(part.summary) },
);
