import { EC2Client } from '@aws-sdk/client-ec2';
import { EFSClient } from '@aws-sdk/client-efs';
import { EKSClient } from '@aws-sdk/client-eks';
import { S3Client } from '@aws-sdk/client-s3';
import { SSMClient } from '@aws-sdk/client-ssm';
import * as z from 'zod';
import { eksNodeAccess } from '#lib/kube/eks-nodes';
import { runStoreOf } from '../commons/run-store';
import { taskHandler } from '../commons/task-handler';
import { readDesiredState } from '#lib/desired-state/load';
import { desiredStateParameter } from '#lib/settings';
import { newRunId } from '#lib/run-id';
import { hybridNodesMetrics } from '#lib/sweep/metrics';
import { sweepInventory } from '#lib/sweep/sweep-inventory';

const Input = z.object({ trigger: z.string().max(64).default('manual') });

/**
 * Task SweepInventory: the clusters of this stage, their hybrid Nodes, managed instances, activations,
 * EFS and insights, read once; written to the run store with the probe batches.
 */
export const { run, handler, clients } = taskHandler(
  Input,
  { ssm: SSMClient, eks: EKSClient, ec2: EC2Client, efs: EFSClient, s3: S3Client },
  async (_input, rt) => {
    const { desired } = await readDesiredState(rt.clients.ssm, desiredStateParameter(rt.settings));
    const now = rt.clock.now();
    return sweepInventory(
      { ...rt.clients, nodes: rt.nodes, store: runStoreOf(rt) },
      {
        sweepId: newRunId(now),
        desired,
        stageCluster: rt.settings.clusterName,
        region: rt.settings.region,
        hybridNodesRoleName: rt.settings.hybridNodesRoleName,
        now,
      },
    );
  },
  { nodes: eksNodeAccess, metrics: (_input, summary) => hybridNodesMetrics(summary) },
);
