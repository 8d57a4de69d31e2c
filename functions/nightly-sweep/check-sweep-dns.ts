import { Route53ResolverClient } from '@aws-sdk/client-route53resolver';
import { S3Client } from '@aws-sdk/client-s3';
import * as z from 'zod';
import { runStoreOf } from '../commons/run-store';
import { taskHandler } from '../commons/task-handler';
import { systemDns } from '#lib/net/dns';
import { checkSweepDns } from '#lib/sweep/check-sweep-dns';
import { SweepIdSchema } from '#lib/sweep/state';

const Input = z.object({ sweepId: SweepIdSchema });

/** Task CheckSweepDns: DNS both ways, from the cluster VPC (param resolutionChecks). */
export const { run, handler, clients } = taskHandler(
  Input,
  { resolver: Route53ResolverClient, s3: S3Client },
  (input, rt) =>
    checkSweepDns(
      {
        dns: rt.dns ?? systemDns,
        resolver: rt.clients.resolver,
        store: runStoreOf(rt),
      },
      { sweepId: input.sweepId, enabled: rt.settings.resolutionChecks ?? false },
    ),
);
