import * as z from 'zod';
import { eksNodeAccess } from '#lib/kube/eks-nodes';
import { taskHandler } from '../commons/task-handler';
import { checkSmokeTest, SmokeTestStateSchema } from '#lib/onboarding/gpu-verification';
import { ManagedInstanceSchema, PreflightResultSchema } from '#lib/onboarding/state';

const Input = z.object({
  preflight: PreflightResultSchema,
  registration: z.object({ instance: ManagedInstanceSchema }),
  smokeTest: SmokeTestStateSchema,
});

/** Task CheckSmokeTest: one look at the nvidia-smi pod; once it has ended, keeps its log's first lines and deletes it. */
export const { run, handler, clients } = taskHandler(
  Input,
  {},
  (input, rt) =>
    checkSmokeTest(rt, {
      clusterAccess: input.preflight.clusterAccess,
      nodeName: input.registration.instance.instanceId,
      smokeTest: input.smokeTest,
    }),
  { nodes: eksNodeAccess },
);
