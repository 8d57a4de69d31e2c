import * as z from 'zod';
import { taskHandler } from '../lib/lambda';
import { DesiredStateSchema } from '../lib/network/config';
import { planAll } from '../lib/network/reconcile';
import { reconcileContext } from '../lib/settings';

const Input = z.object({ desired: DesiredStateSchema, kind: z.enum(['resolver', 'efs']) });

/** Tasks PlanResolver and PlanEfs (one function, two branches): read AWS, compare, plan. */
export const { run, handler } = taskHandler(Input, (input, rt) =>
  planAll(rt.clients, reconcileContext(rt.settings), input.desired, [input.kind]),
);
