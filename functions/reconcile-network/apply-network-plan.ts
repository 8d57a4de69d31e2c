import { EC2Client } from '@aws-sdk/client-ec2';
import { EFSClient } from '@aws-sdk/client-efs';
import { Route53ResolverClient } from '@aws-sdk/client-route53resolver';
import { S3Client } from '@aws-sdk/client-s3';
import * as z from 'zod';
import { runStoreOf } from '../commons/run-store';
import { taskHandler } from '../commons/task-handler';
import { applyNetworkPlan } from '#lib/network/apply';
import { ApplyProgressSchema, PlanRefSchema, RunIdSchema } from '#lib/network/run-store';
import { reconcileContext } from '#lib/settings';

const Input = z.object({
  runId: RunIdSchema,
  plans: z.array(PlanRefSchema).min(1, 'plans must hold the reference each Plan branch returned'),
  progress: ApplyProgressSchema,
});

/** Task ApplyNetworkPlan: the next batch of the stored plan, each outcome recorded as it is known; the ASL loops it. */
export const { run, handler, clients } = taskHandler(
  Input,
  { ec2: EC2Client, efs: EFSClient, resolver: Route53ResolverClient, s3: S3Client },
  (input, rt) =>
    applyNetworkPlan(
      {
        clients: rt.clients,
        ctx: reconcileContext(rt.settings),
        store: runStoreOf(rt),
      },
      input,
    ),
);
