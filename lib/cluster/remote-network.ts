import { cidrsOverlap, isRfc1918, parseCidr } from '../domain/ipv4';
import type { ClusterFacts } from './facts';

/** Problems with the cluster's own remote network settings (REFERENCE.md section 7). */
export function remoteNetworkProblems(facts: ClusterFacts): string[] {
  const problems: string[] = [];
  const remote = [...facts.remoteNodeCidrs, ...facts.remotePodCidrs];
  const others: Array<[string, string]> = facts.vpcCidrs.map((c) => [c, 'VPC']);
  if (facts.serviceCidr) others.push([facts.serviceCidr, 'service']);
  remote.forEach((text, i) => {
    const cidr = parseCidr(text);
    if (!isRfc1918(cidr)) problems.push(`remote CIDR ${text} is not inside RFC 1918 (10/8, 172.16/12, 192.168/16)`);
    for (const [other, kind] of others) {
      if (cidrsOverlap(cidr, parseCidr(other))) problems.push(`remote CIDR ${text} overlaps the ${kind} CIDR ${other}`);
    }
    for (const later of remote.slice(i + 1)) {
      if (cidrsOverlap(cidr, parseCidr(later))) problems.push(`remote CIDRs ${text} and ${later} overlap`);
    }
  });
  return problems;
}
