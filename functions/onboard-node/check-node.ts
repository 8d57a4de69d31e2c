import * as z from 'zod';
import { eksNodeAccess } from '#lib/kube/eks-nodes';
import { taskHandler } from '../commons/task-handler';
import { checkNode } from '#lib/onboarding/node-readiness';
import { ManagedInstanceSchema, NodeStateSchema, PreflightResultSchema } from '#lib/onboarding/state';

const Input = z.object({
  requestId: z.string(),
  request: z.object({ node: z.object({ ip: z.string() }) }),
  preflight: PreflightResultSchema,
  registration: z.object({ instance: ManagedInstanceSchema }),
  node: NodeStateSchema.optional(),
});

/** Task CheckNode: one look at the Kubernetes Node named by the managed-instance id. */
export const { run, handler, clients } = taskHandler(
  Input,
  {},
  (input, rt) =>
    checkNode(rt, {
      clusterAccess: input.preflight.clusterAccess,
      instance: input.registration.instance,
      requestId: input.requestId,
      nodeIp: input.request.node.ip,
      previous: input.node,
    }),
  { nodes: eksNodeAccess },
);
