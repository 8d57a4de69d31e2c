import { Route53ResolverClient } from '@aws-sdk/client-route53resolver';
import * as z from 'zod';
import { taskHandler } from '../commons/task-handler';
import { systemDns } from '#lib/net/dns';
import { DesiredStateSchema } from '#lib/desired-state/schema';
import { checkResolution } from '#lib/network/resolution';

const Input = z.object({ desired: DesiredStateSchema });

/**
 * Task CheckResolution: resolves the declared on-prem name through the VPC resolver and the
 * declared AWS name through the inbound endpoint. Meaningful when this function runs in the
 * cluster VPC (serverless.yml params vpcSubnetIds / vpcSecurityGroupIds).
 */
export const { run, handler, clients } = taskHandler(Input, { resolver: Route53ResolverClient }, async (input, rt) => {
  if (!rt.settings.resolutionChecks) {
    // Outside the cluster VPC the answers would be the public resolver's, not the rules': say so.
    return {
      checks: [],
      findings: input.desired.clusters
        .filter((c) => c.dns?.checks)
        .map((c) => ({
          cluster: c.name,
          severity: 'info' as const,
          resource: 'dns-checks',
          message: 'DNS resolution checks are off: the check function is not deployed in the cluster VPC.',
          fix: 'Deploy with --param resolutionChecks=true and vpcSubnetIds / vpcSecurityGroupIds in the cluster VPC.',
        })),
    };
  }
  return checkResolution({ dns: rt.dns ?? systemDns, resolver: rt.clients.resolver }, input.desired);
});
