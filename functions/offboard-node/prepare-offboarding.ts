import { EKSClient } from '@aws-sdk/client-eks';
import { SSMClient } from '@aws-sdk/client-ssm';
import { eksNodeAccess } from '#lib/kube/eks-nodes';
import { prepareOffboarding } from '#lib/offboarding/prepare';
import { OffboardingInputSchema } from '#lib/offboarding/state';
import { taskHandler } from '../commons/task-handler';

/** Task PrepareOffboarding: the node is a hybrid node of this cluster; its host's state and cost; the node lock. */
export const { run, handler, clients } = taskHandler(
  OffboardingInputSchema,
  { eks: EKSClient, ssm: SSMClient },
  (input, rt) =>
    prepareOffboarding({ clients: rt.clients, nodes: rt.nodes, settings: rt.settings, clock: rt.clock }, input),
  { nodes: eksNodeAccess },
);
