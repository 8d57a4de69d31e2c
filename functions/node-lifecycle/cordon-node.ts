import { eksNodeAccess } from '#lib/kube/eks-nodes';
import { taskHandler } from '../commons/task-handler';
import { cordonNode } from '#lib/node-lifecycle/cordon';
import { NodeStepInputSchema } from '#lib/node-lifecycle/state';

/** Task CordonNode: marks the hybrid Node unschedulable, remembering whether it already was. */
export const { run, handler, clients } = taskHandler(
  NodeStepInputSchema,
  {},
  (input, rt) => cordonNode({ nodes: rt.nodes }, input),
  { nodes: eksNodeAccess },
);
