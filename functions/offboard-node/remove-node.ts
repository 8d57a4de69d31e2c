import { SSMClient } from '@aws-sdk/client-ssm';
import { eksNodeAccess } from '#lib/kube/eks-nodes';
import { EarlierRemoveSchema, removeNode } from '#lib/offboarding/remove';
import { OffboardingStateSchema, PrepareResultSchema } from '#lib/offboarding/state';
import { taskHandler } from '../commons/task-handler';

const Input = OffboardingStateSchema.extend({
  prepare: PrepareResultSchema,
  /** The previous try's result, when the workflow tries again. */
  remove: EarlierRemoveSchema.optional(),
});

/** Task RemoveNode: deletes the Node, deregisters the instance, deletes what was left for it, releases the lock. */
export const { run, handler, clients } = taskHandler(
  Input,
  { ssm: SSMClient },
  (input, rt) => removeNode({ ssm: rt.clients.ssm, nodes: rt.nodes, clock: rt.clock, settings: rt.settings }, input),
  { nodes: eksNodeAccess },
);
