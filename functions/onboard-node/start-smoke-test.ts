import * as z from 'zod';
import { eksNodeAccess } from '#lib/kube/eks-nodes';
import { taskHandler } from '../commons/task-handler';
import { startSmokeTest } from '#lib/onboarding/gpu-verification';
import { ManagedInstanceSchema, PreflightResultSchema } from '#lib/onboarding/state';

const Input = z.object({
  requestId: z.string(),
  preflight: PreflightResultSchema,
  registration: z.object({ instance: ManagedInstanceSchema }),
});

/** Task StartSmokeTest: creates the pod that runs nvidia-smi on the new Node. */
export const { run, handler, clients } = taskHandler(
  Input,
  {},
  (input, rt) =>
    startSmokeTest(rt, {
      clusterAccess: input.preflight.clusterAccess,
      requestId: input.requestId,
      nodeName: input.registration.instance.instanceId,
    }),
  { nodes: eksNodeAccess },
);
