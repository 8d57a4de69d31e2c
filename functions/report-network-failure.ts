import * as z from 'zod';
import { taskHandler } from '../lib/lambda';
import { failedStep, reportNetworkFailure, withOutcomes } from '../lib/network/report';
import {
  ApplyProgressSchema,
  loadPlan,
  PlanRefSchema,
  readOutcomes,
  reconcileKeys,
  RunIdSchema,
} from '../lib/network/run-store';
import { CaughtErrorSchema } from '../lib/onboarding/state';
import { objectUri, s3Store } from '../lib/store';

/** The whole state of the run, as far as it got. */
const Input = z.object({
  mode: z.string().default('unknown (the input had none)'),
  loaded: z.object({ runId: RunIdSchema }).optional(),
  plans: z.array(PlanRefSchema).optional(),
  applied: ApplyProgressSchema.optional(),
  published: z.unknown().optional(),
  failure: CaughtErrorSchema,
});

/**
 * Task ReportFailure: the alert for a reconciliation that could not finish, with what it changed
 * before it failed (the outcomes are in the run store whatever failed).
 */
export const { run, handler } = taskHandler(Input, async (input, rt) => {
  const runId = input.loaded?.runId;
  let actions;
  let unreadable: string | undefined;
  if (input.mode === 'apply' && runId && input.plans) {
    try {
      const store = s3Store(rt.clients.s3, rt.settings.storeBucket);
      const plan = await loadPlan(store, input.plans);
      actions = withOutcomes(plan, await readOutcomes(store, runId, plan.actions.length, input.applied?.unsaved));
    } catch (error) {
      unreadable = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
    }
  }
  return reportNetworkFailure({
    stage: rt.settings.stage,
    mode: input.mode,
    failure: input.failure,
    step: failedStep(input),
    actions,
    unreadable,
    reportUri: runId ? objectUri(rt.settings.storeBucket, reconcileKeys(runId).report) : undefined,
  });
});
