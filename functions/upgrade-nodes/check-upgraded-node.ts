import { eksNodeAccess } from '#lib/kube/eks-nodes';
import { checkUpgradedNode } from '#lib/upgrades/node-steps';
import { NodeItemSchema, ReadinessSchema } from '#lib/upgrades/state';
import { taskHandler } from '../commons/task-handler';

const Input = NodeItemSchema.extend({ readiness: ReadinessSchema.optional() });

/** Task CheckUpgradedNode: one look at the Node after nodeadm upgrade: Ready at the target yet? */
export const { run, handler, clients } = taskHandler(
  Input,
  {},
  (input, rt) =>
    checkUpgradedNode(rt, {
      access: input.access,
      target: input.target,
      nodeName: input.node.nodeName,
      previous: input.readiness,
    }),
  { nodes: eksNodeAccess },
);
