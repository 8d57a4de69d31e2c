import * as z from 'zod';
import { taskHandler } from '../lib/lambda';
import { MODES } from '../lib/network/modes';
import { type Action, type Finding, mergePlans, type Plan } from '../lib/network/plan';
import { reportNetwork } from '../lib/network/report';

const Input = z.object({
  mode: z.enum(MODES),
  trigger: z.string().default('api'),
  plans: z.array(z.custom<Plan>((p) => typeof p === 'object')),
  applied: z.object({ actions: z.array(z.custom<Action>()), published: z.array(z.unknown()) }).optional(),
  resolution: z.object({ checks: z.array(z.unknown()), findings: z.array(z.custom<Finding>()) }).optional(),
});

/** Task Report: the run's result, and the operators' alert when there is something to act on. */
export const { run, handler } = taskHandler(Input, async (input, rt) =>
  reportNetwork({
    mode: input.mode,
    trigger: input.trigger,
    stage: rt.settings.stage,
    plan: mergePlans(...input.plans, { actions: [], conflicts: [], findings: input.resolution?.findings ?? [] }),
    resolution: input.resolution?.checks,
    applied: input.applied?.actions,
    published: input.applied?.published,
  }),
);
