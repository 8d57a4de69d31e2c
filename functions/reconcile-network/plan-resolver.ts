import { EC2Client } from '@aws-sdk/client-ec2';
import { EKSClient } from '@aws-sdk/client-eks';
import { Route53ResolverClient } from '@aws-sdk/client-route53resolver';
import { S3Client } from '@aws-sdk/client-s3';
import * as z from 'zod';
import { DesiredStateSchema } from '#lib/desired-state/schema';
import { planResolver } from '#lib/network/planning';
import { RunIdSchema } from '#lib/network/run-store';
import { reconcileContext } from '#lib/settings';
import { runStoreOf } from '../commons/run-store';
import { taskHandler } from '../commons/task-handler';

const Input = z.object({ runId: RunIdSchema, desired: DesiredStateSchema });

/** Task PlanResolver: read the forwarding rules, their associations and the inbound endpoint, compare, plan; the plan goes to the run store. */
export const { run, handler, clients } = taskHandler(
  Input,
  { eks: EKSClient, ec2: EC2Client, resolver: Route53ResolverClient, s3: S3Client },
  (input, rt) =>
    planResolver(
      {
        clients: rt.clients,
        ctx: reconcileContext(rt.settings),
        store: runStoreOf(rt),
      },
      input,
    ),
);
