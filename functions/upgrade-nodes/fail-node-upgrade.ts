import { SSMClient } from '@aws-sdk/client-ssm';
import * as z from 'zod';
import { CaughtErrorSchema } from '#lib/caught-error';
import { failNodeUpgrade } from '#lib/upgrades/node-steps';
import { NodeItemSchema, NodeStartSchema, ReadinessSchema } from '#lib/upgrades/state';
import { taskHandler } from '../commons/task-handler';

/** The node's whole iteration state: which steps wrote their part says how far it got. */
const Input = NodeItemSchema.extend({
  failure: CaughtErrorSchema,
  start: NodeStartSchema.optional(),
  cordon: z.unknown().optional(),
  drain: z.object({ done: z.boolean() }).optional(),
  command: z.unknown().optional(),
  commandStatus: z.object({ done: z.boolean() }).optional(),
  readiness: ReadinessSchema.optional(),
  uncordon: z.unknown().optional(),
  uncordonFailure: CaughtErrorSchema.optional(),
});

/** Task FailNodeUpgrade: a step of the node's upgrade failed; releases its lock and says what is left. */
export const { run, handler, clients } = taskHandler(Input, { ssm: SSMClient }, (input, rt) => {
  const { failure, start, cordon, drain, command, commandStatus, readiness, uncordon, uncordonFailure, ...item } =
    input;
  return failNodeUpgrade(
    { ssm: rt.clients.ssm },
    { item, failure, start, cordon, drain, command, commandStatus, readiness, uncordon, uncordonFailure },
  );
});
