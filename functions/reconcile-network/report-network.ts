import { S3Client } from '@aws-sdk/client-s3';
import * as z from 'zod';
import { runStoreOf } from '../commons/run-store';
import { taskHandler } from '../commons/task-handler';
import { reconcileFinished } from '#lib/network/metrics';
import { MODES } from '#lib/network/modes';
import { PublishedDirectorySchema } from '#lib/network/publish-mount-targets';
import { reportNetwork } from '#lib/network/report';
import { ResolutionResultSchema } from '#lib/network/resolution';
import { ApplyProgressSchema, PlanRefSchema, reconcileKeys, RunIdSchema } from '#lib/network/run-store';
import { objectUri } from '#lib/store';

/** The whole state of the run (this Task has no Parameters: what exists depends on the mode). */
const Input = z.object({
  mode: z.enum(MODES),
  trigger: z.string().default('api'),
  loaded: z.object({ runId: RunIdSchema }),
  plans: z.array(PlanRefSchema).min(1),
  applied: ApplyProgressSchema.optional(),
  published: z.array(PublishedDirectorySchema).optional(),
  resolution: ResolutionResultSchema.optional(),
});

/** Task ReportNetwork: the run's result from the run store, and the operators' alert when there is something to act on. */
export const { run, handler, clients } = taskHandler(
  Input,
  { s3: S3Client },
  (input, rt) =>
    reportNetwork(
      { store: runStoreOf(rt) },
      {
        runId: input.loaded.runId,
        mode: input.mode,
        trigger: input.trigger,
        stage: rt.settings.stage,
        plans: input.plans,
        applied: input.mode === 'apply',
        unsaved: input.applied?.unsaved,
        published: input.published,
        resolution: input.resolution,
        reportUri: objectUri(rt.settings.storeBucket, reconcileKeys(input.loaded.runId).report),
      },
    ),
  { metrics: (_input, report) => reconcileFinished(report) },
);
