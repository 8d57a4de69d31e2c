import type { Route53ResolverClient } from '@aws-sdk/client-route53resolver';
import * as z from 'zod';
import type { DesiredState } from '../desired-state/schema';
import type { DnsLookup } from './dns';
import { liveEndpointAddresses } from './resolver-endpoints';

/** One name looked up one way, and what came back. */
export const ResolutionCheckSchema = z.object({
  cluster: z.string(),
  direction: z.enum(['aws-to-on-prem', 'on-prem-to-aws']),
  name: z.string(),
  via: z.string(),
  answers: z.array(z.string()),
  ok: z.boolean(),
  error: z.string().optional(),
});
export type ResolutionCheck = z.infer<typeof ResolutionCheckSchema>;

/**
 * Checks DNS both ways where AWS can check it: a declared on-prem name through the VPC resolver
 * (so through the outbound forwarding rules), and a declared AWS name through the inbound
 * endpoint's IPs (the path on-prem DNS forwards to).
 */
export async function checkNameResolution(
  deps: { dns: DnsLookup; resolver: Route53ResolverClient },
  desired: DesiredState,
): Promise<ResolutionCheck[]> {
  const checks: ResolutionCheck[] = [];
  for (const cluster of desired.clusters) {
    const names = cluster.dns?.checks;
    if (!cluster.dns || !names) continue;
    if (names.onPremName) {
      checks.push(await check(deps.dns, cluster.name, 'aws-to-on-prem', names.onPremName, 'the VPC resolver'));
    }
    if (names.awsName && cluster.dns.inbound) {
      const ips = (await liveEndpointAddresses(deps.resolver, cluster.dns.inbound.endpointId)).map((a) => a.ip);
      checks.push(
        await check(deps.dns, cluster.name, 'on-prem-to-aws', names.awsName, `inbound endpoint ${ips.join(', ')}`, ips),
      );
    }
  }
  return checks;
}

/** What a failed check means, and where to look. */
export function resolutionProblem(c: ResolutionCheck): { message: string; fix: string } {
  return {
    message: `${c.name} does not resolve through ${c.via} (${c.error ?? 'no answer'}).`,
    fix:
      c.direction === 'aws-to-on-prem'
        ? 'Check the forwarding rule is associated with the VPC, the outbound endpoint reaches the on-prem DNS servers on 53 (TCP and UDP), and they answer for the name.'
        : 'Check the inbound endpoint is OPERATIONAL, its security group allows DNS (53) from on-prem, and on-prem DNS forwards the zone to its IPs.',
  };
}

async function check(
  dns: DnsLookup,
  cluster: string,
  direction: ResolutionCheck['direction'],
  name: string,
  via: string,
  servers?: string[],
): Promise<ResolutionCheck> {
  if (servers && servers.length === 0) {
    return { cluster, direction, name, via, answers: [], ok: false, error: 'the inbound endpoint has no IPs' };
  }
  try {
    const answers = await dns.resolve4(name, servers);
    return { cluster, direction, name, via, answers, ok: answers.length > 0 };
  } catch (error) {
    const e = error as NodeJS.ErrnoException;
    return { cluster, direction, name, via, answers: [], ok: false, error: e.code ?? e.message };
  }
}
