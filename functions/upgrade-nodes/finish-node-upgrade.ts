import { SSMClient } from '@aws-sdk/client-ssm';
import { finishNodeUpgrade } from '#lib/upgrades/node-steps';
import { NodeItemSchema, NodeStartSchema, ReadinessSchema } from '#lib/upgrades/state';
import { taskHandler } from '../commons/task-handler';

const Input = NodeItemSchema.extend({ start: NodeStartSchema, readiness: ReadinessSchema });

/** Task FinishNodeUpgrade: the node is Ready at the target and uncordoned; releases its lock. */
export const { run, handler, clients } = taskHandler(Input, { ssm: SSMClient }, (input, rt) => {
  const { start, readiness, ...item } = input;
  return finishNodeUpgrade({ ssm: rt.clients.ssm, clock: rt.clock }, { item, start, readiness });
});
