import { eksNodeAccess } from '#lib/kube/eks-nodes';
import { taskHandler } from '../commons/task-handler';
import { drainNode } from '#lib/node-lifecycle/drain';
import { DrainInputSchema } from '#lib/node-lifecycle/state';

/** Task DrainNode: one eviction pass over the Node's pods; the workflow loops until it is done. */
export const { run, handler, clients } = taskHandler(
  DrainInputSchema,
  {},
  (input, rt) => drainNode({ nodes: rt.nodes, clock: rt.clock }, input),
  { nodes: eksNodeAccess },
);
