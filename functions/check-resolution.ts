import * as z from 'zod';
import { taskHandler } from '../lib/lambda';
import { systemDns } from '../lib/net/dns';
import { DesiredStateSchema } from '../lib/network/config';
import { checkResolution } from '../lib/network/resolution';

const Input = z.object({ desired: DesiredStateSchema });

/**
 * Task CheckResolution: resolves the declared on-prem name through the VPC resolver and the
 * declared AWS name through the inbound endpoint. Meaningful when this function runs in the
 * cluster VPC (serverless.yml params resolutionCheckSubnetIds / resolutionCheckSecurityGroupIds).
 */
export const { run, handler } = taskHandler(Input, (input, rt) =>
  checkResolution({ dns: rt.dns ?? systemDns, resolver: rt.clients.resolver }, input.desired),
);
