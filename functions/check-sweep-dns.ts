import * as z from 'zod';
import { taskHandler } from '../lib/lambda';
import { systemDns } from '../lib/net/dns';
import { dnsStep } from '../lib/sweep/night';
import { SweepIdSchema } from '../lib/sweep/state';
import { s3Store } from '../lib/store';

const Input = z.object({ sweepId: SweepIdSchema });

/** Task CheckDns: DNS both ways, from the cluster VPC (param resolutionChecks). */
export const { run, handler } = taskHandler(Input, (input, rt) =>
  dnsStep(
    {
      dns: rt.dns ?? systemDns,
      resolver: rt.clients.resolver,
      store: s3Store(rt.clients.s3, rt.settings.storeBucket),
    },
    { sweepId: input.sweepId, enabled: rt.settings.resolutionChecks ?? false },
  ),
);
