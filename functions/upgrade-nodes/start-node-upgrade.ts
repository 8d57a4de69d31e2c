import { SSMClient } from '@aws-sdk/client-ssm';
import { eksNodeAccess } from '#lib/kube/eks-nodes';
import { startNodeUpgrade } from '#lib/upgrades/node-steps';
import { NodeItemSchema } from '#lib/upgrades/state';
import { taskHandler } from '../commons/task-handler';

/** Task StartNodeUpgrade: takes the node's lock and looks at its Node again; skips one that needs nothing. */
export const { run, handler, clients } = taskHandler(
  NodeItemSchema,
  { ssm: SSMClient },
  (item, rt) => startNodeUpgrade({ ssm: rt.clients.ssm, nodes: rt.nodes, clock: rt.clock }, item),
  { nodes: eksNodeAccess },
);
