import {
  GetResolverEndpointCommand,
  ResolverEndpointDirection,
  ResolverEndpointStatus,
  ResourceNotFoundException,
} from '@aws-sdk/client-route53resolver';
import type { AwsClients } from '../aws/clients';
import type { ClusterDesiredState } from '../desired-state/schema';
import { endpointAddresses, isServing } from '../net/resolver-endpoints';
import { subnetZones } from '../vpc/subnets';
import type { Finding } from './plan';

/**
 * The inbound endpoint on-prem DNS forwards to: it must exist, be an INBOUND endpoint, be
 * OPERATIONAL and have IPs in at least two AZs. Reported, never changed.
 */
export async function inboundEndpointFindings(
  clients: Pick<AwsClients, 'resolver' | 'ec2'>,
  cluster: ClusterDesiredState,
): Promise<Finding[]> {
  const id = cluster.dns?.inbound?.endpointId;
  if (!id) return [];
  const finding = (message: string, fix: string): Finding => ({
    cluster: cluster.name,
    severity: 'critical',
    resource: id,
    message,
    fix,
  });
  let endpoint;
  try {
    endpoint = (await clients.resolver.send(new GetResolverEndpointCommand({ ResolverEndpointId: id })))
      .ResolverEndpoint;
  } catch (error) {
    if (error instanceof ResourceNotFoundException) {
      return [
        finding(
          `Inbound endpoint ${id} does not exist.`,
          'Create it (two subnets in two AZs) or fix dns.inbound.endpointId.',
        ),
      ];
    }
    throw error;
  }
  const findings: Finding[] = [];
  if (endpoint?.Direction !== ResolverEndpointDirection.Inbound) {
    findings.push(
      finding(
        `Endpoint ${id} is ${endpoint?.Direction ?? 'of no direction'}, not INBOUND.`,
        'Point dns.inbound.endpointId at the INBOUND endpoint.',
      ),
    );
  }
  if (endpoint?.Status !== ResolverEndpointStatus.Operational) {
    findings.push(
      finding(
        `Inbound endpoint ${id} is ${endpoint?.Status ?? 'in no state'}, not OPERATIONAL: on-prem cannot resolve AWS names through it.`,
        `Check it in the Route 53 Resolver console; status message: ${endpoint?.StatusMessage ?? 'none'}.`,
      ),
    );
  }
  const all = await endpointAddresses(clients.resolver, id);
  const addresses = all.filter(isServing);
  const notServing = all.filter((a) => !isServing(a));
  const ips = addresses.map((a) => a.ip);
  const subnets = addresses.flatMap((a) => (a.subnetId ? [a.subnetId] : []));
  const azs = new Set((await subnetZones(clients.ec2, subnets)).map((s) => s.availabilityZone));
  if (azs.size < 2) {
    const others = notServing.map(
      (a) => `${a.ip}${a.subnetId ? ` (${a.subnetId})` : ''} is ${a.status ?? 'in no state'}`,
    );
    findings.push(
      finding(
        `Inbound endpoint ${id} has IPs (${ips.join(', ') || 'none'}) in ${azs.size} AZ(s); it needs at least two to survive an AZ outage.` +
          (others.length ? ` Not serving (only ATTACHED addresses answer): ${others.join('; ')}.` : ''),
        others.length
          ? 'Wait for those addresses to become ATTACHED, or replace a failed one; make sure the ATTACHED ones cover two AZs.'
          : 'Add an IP address in a subnet of a second AZ.',
      ),
    );
  }
  return findings;
}
