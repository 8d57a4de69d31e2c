import * as z from 'zod';
import { eksNodeAccess } from '#lib/kube/eks-nodes';
import { taskHandler } from '../commons/task-handler';
import { checkGpus, GpuCheckStateSchema } from '#lib/onboarding/gpu-verification';
import { ManagedInstanceSchema, NodeStateSchema, PreflightResultSchema } from '#lib/onboarding/state';

const Input = z.object({
  request: z.object({ node: z.object({ name: z.string() }), gpu: z.object({ count: z.number().int().min(1) }) }),
  preflight: PreflightResultSchema,
  registration: z.object({ instance: ManagedInstanceSchema }),
  node: NodeStateSchema.extend({ readyAt: z.string() }),
  gpuCheck: GpuCheckStateSchema,
});

/** Task CheckGpus: one look at the Node's allocatable nvidia.com/gpu against the GPUs asked for. */
export const { run, handler, clients } = taskHandler(
  Input,
  {},
  (input, rt) =>
    checkGpus(rt, {
      clusterAccess: input.preflight.clusterAccess,
      nodeName: input.registration.instance.instanceId,
      serverName: input.request.node.name,
      requested: input.request.gpu.count,
      readyAt: input.node.readyAt,
      previous: input.gpuCheck,
    }),
  { nodes: eksNodeAccess },
);
