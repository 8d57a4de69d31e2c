import { EC2Client } from '@aws-sdk/client-ec2';
import { EFSClient } from '@aws-sdk/client-efs';
import { EKSClient } from '@aws-sdk/client-eks';
import { S3Client } from '@aws-sdk/client-s3';
import * as z from 'zod';
import { DesiredStateSchema } from '#lib/desired-state/schema';
import { planEfs } from '#lib/network/planning';
import { RunIdSchema } from '#lib/network/run-store';
import { runStoreOf } from '../commons/run-store';
import { taskHandler } from '../commons/task-handler';

const Input = z.object({ runId: RunIdSchema, desired: DesiredStateSchema });

/** Task PlanEfs: read the file system, its mount targets and their security group, compare, plan; the plan goes to the run store. */
export const { run, handler, clients } = taskHandler(
  Input,
  { eks: EKSClient, ec2: EC2Client, efs: EFSClient, s3: S3Client },
  (input, rt) => planEfs({ clients: rt.clients, store: runStoreOf(rt) }, input),
);
