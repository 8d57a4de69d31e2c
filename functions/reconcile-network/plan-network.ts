import { EC2Client } from '@aws-sdk/client-ec2';
import { EFSClient } from '@aws-sdk/client-efs';
import { EKSClient } from '@aws-sdk/client-eks';
import { Route53ResolverClient } from '@aws-sdk/client-route53resolver';
import { S3Client } from '@aws-sdk/client-s3';
import * as z from 'zod';
import { taskHandler } from '../commons/task-handler';
import { DesiredStateSchema } from '../../lib/desired-state/schema';
import { planStep } from '../../lib/network/reconcile';
import { RunIdSchema } from '../../lib/network/run-store';
import { reconcileContext } from '../../lib/settings';
import { s3Store } from '../../lib/store';

const Input = z.object({ runId: RunIdSchema, desired: DesiredStateSchema, kind: z.enum(['resolver', 'efs']) });

/** Tasks PlanResolver and PlanEfs (one function, two branches): read AWS, compare, plan; the plan goes to the run store. */
export const { run, handler, clients } = taskHandler(
  Input,
  { eks: EKSClient, ec2: EC2Client, efs: EFSClient, resolver: Route53ResolverClient, s3: S3Client },
  (input, rt) =>
    planStep(
      {
        clients: rt.clients,
        ctx: reconcileContext(rt.settings),
        store: s3Store(rt.clients.s3, rt.settings.storeBucket),
      },
      input,
    ),
);
