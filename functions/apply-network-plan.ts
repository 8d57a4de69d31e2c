import * as z from 'zod';
import { taskHandler } from '../lib/lambda';
import { applyStep } from '../lib/network/apply';
import { ApplyProgressSchema, PlanRefSchema, RunIdSchema } from '../lib/network/run-store';
import { reconcileContext } from '../lib/settings';
import { s3Store } from '../lib/store';

const Input = z.object({
  runId: RunIdSchema,
  plans: z.array(PlanRefSchema).min(1, 'plans must hold the reference each Plan branch returned'),
  progress: ApplyProgressSchema,
});

/** Task Apply: the next batch of the stored plan, each outcome recorded as it is known; the ASL loops it. */
export const { run, handler } = taskHandler(Input, (input, rt) =>
  applyStep(
    { clients: rt.clients, ctx: reconcileContext(rt.settings), store: s3Store(rt.clients.s3, rt.settings.storeBucket) },
    input,
  ),
);
