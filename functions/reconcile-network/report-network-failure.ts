import { S3Client } from '@aws-sdk/client-s3';
import * as z from 'zod';
import { runStoreOf } from '../commons/run-store';
import { taskHandler } from '../commons/task-handler';
import { PublishedDirectorySchema } from '#lib/network/publish-mount-targets';
import { failedStep, reportNetworkFailure } from '#lib/network/report-failure';
import { ApplyProgressSchema, PlanRefSchema, reconcileKeys, RunIdSchema } from '#lib/network/run-store';
import { CaughtErrorSchema } from '#lib/caught-error';
import { objectUri } from '#lib/store';

/** The whole state of the run, as far as it got. */
const Input = z.object({
  mode: z.string().default('unknown (the input had none)'),
  loaded: z.object({ runId: RunIdSchema }).optional(),
  plans: z.array(PlanRefSchema).optional(),
  applied: ApplyProgressSchema.optional(),
  published: z.array(PublishedDirectorySchema).optional(),
  failure: CaughtErrorSchema,
});

/**
 * Task ReportNetworkFailure: the alert for a reconciliation that could not finish, with what it changed
 * before it failed (the outcomes are in the run store whatever failed).
 */
export const { run, handler, clients } = taskHandler(Input, { s3: S3Client }, (input, rt) => {
  const runId = input.loaded?.runId;
  return reportNetworkFailure(
    { store: () => runStoreOf(rt) },
    {
      stage: rt.settings.stage,
      mode: input.mode,
      failure: input.failure,
      step: failedStep(input),
      runId,
      plans: input.plans,
      unsaved: input.applied?.unsaved,
      reportUri: runId ? objectUri(rt.settings.storeBucket, reconcileKeys(runId).report) : undefined,
    },
  );
});
