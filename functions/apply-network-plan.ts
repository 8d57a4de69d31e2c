import * as z from 'zod';
import { taskHandler } from '../lib/lambda';
import { DesiredStateSchema } from '../lib/network/config';
import { mergePlans, type Plan } from '../lib/network/plan';
import { applyPlan, publishAll } from '../lib/network/reconcile';
import { reconcileContext } from '../lib/settings';

const Input = z.object({ desired: DesiredStateSchema, plans: z.array(z.custom<Plan>((p) => typeof p === 'object')) });

/** Task Apply: every action tried, each with its outcome; then the mount-target directories published. */
export const { run, handler } = taskHandler(Input, async (input, rt) => {
  const ctx = reconcileContext(rt.settings);
  const actions = await applyPlan(rt.clients, ctx, mergePlans(...input.plans).actions);
  return { actions, published: await publishAll(rt.clients, ctx, input.desired) };
});
