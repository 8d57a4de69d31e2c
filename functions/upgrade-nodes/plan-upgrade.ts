import { EKSClient } from '@aws-sdk/client-eks';
import { S3Client } from '@aws-sdk/client-s3';
import { SSMClient } from '@aws-sdk/client-ssm';
import { eksNodeAccess } from '#lib/kube/eks-nodes';
import { planUpgrade } from '#lib/upgrades/plan';
import { UpgradeInputSchema } from '#lib/upgrades/state';
import { runStoreOf } from '../commons/run-store';
import { taskHandler } from '../commons/task-handler';

/**
 * Task PlanUpgrade: the target against the control plane, the nodes to upgrade (named, selected,
 * or every hybrid Node below the target) and those skipped with why, in waves of maxUnavailable.
 */
export const { run, handler, clients } = taskHandler(
  UpgradeInputSchema,
  { eks: EKSClient, ssm: SSMClient, s3: S3Client },
  (input, rt) =>
    planUpgrade(
      {
        eks: rt.clients.eks,
        ssm: rt.clients.ssm,
        nodes: rt.nodes,
        store: runStoreOf(rt),
        clock: rt.clock,
        settings: rt.settings,
      },
      input,
    ),
  { nodes: eksNodeAccess },
);
