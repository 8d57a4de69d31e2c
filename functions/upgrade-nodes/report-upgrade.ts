import { S3Client } from '@aws-sdk/client-s3';
import * as z from 'zod';
import { CaughtErrorSchema } from '#lib/caught-error';
import { reportUpgrade } from '#lib/upgrades/report';
import { NodeOutcomeSchema, PlannedNodeSchema, UpgradeInputSchema, UpgradePlanSchema } from '#lib/upgrades/state';
import { runStoreOf } from '../commons/run-store';
import { taskHandler } from '../commons/task-handler';

/** The run's whole state: how far it got is which parts are there. */
const Input = UpgradeInputSchema.extend({
  plan: UpgradePlanSchema.optional(),
  /** The wave in progress (SelectWave wrote its nodes) or the next one (RecordUpgradeWave wrote its index). */
  wave: z
    .object({
      index: z.number().int().min(0),
      nodes: z.array(PlannedNodeSchema).optional(),
      results: z.array(NodeOutcomeSchema).optional(),
    })
    .optional(),
  failure: CaughtErrorSchema.optional(),
});

/** Task ReportUpgrade: every node's outcome, the report in the run store, and the one summary message. */
export const { run, handler, clients } = taskHandler(Input, { s3: S3Client }, (input, rt) =>
  reportUpgrade(
    { store: runStoreOf(rt), clock: rt.clock, bucket: rt.settings.storeBucket },
    {
      upgradeId: input.upgradeId,
      requester: input.requester,
      request: input.request,
      plan: input.plan,
      // A wave with its nodes was under way when the run stopped; one without is the next, never begun.
      wave: input.wave?.nodes ? { index: input.wave.index, results: input.wave.results } : undefined,
      failure: input.failure,
    },
  ),
);
