import { eksNodeAccess } from '#lib/kube/eks-nodes';
import { taskHandler } from '../commons/task-handler';
import { uncordonNode } from '#lib/node-lifecycle/cordon';
import { NodeStepInputSchema } from '#lib/node-lifecycle/state';

/** Task UncordonNode: makes the Node schedulable again (after an upgrade, or a drain that could not finish). */
export const { run, handler, clients } = taskHandler(
  NodeStepInputSchema,
  {},
  (input, rt) => uncordonNode({ nodes: rt.nodes }, input),
  { nodes: eksNodeAccess },
);
