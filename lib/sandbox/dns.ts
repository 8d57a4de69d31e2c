import type { DnsLookup } from '../net/dns';
import type { SandboxEstate } from './estate';
import { associationsOf } from './services/route53resolver';

/** What node:dns raises for a failed query: an Error with the resolver's code. */
const dnsError = (code: string, name: string) => Object.assign(new Error(`queryA ${code} ${name}`), { code });

/**
 * DNS as the sandbox estate's network answers it. The VPC resolver applies the FORWARD rules
 * associated with its VPC (longest matching domain) and asks their targets, which answer if they
 * are on-prem DNS servers of the seed that know the name; other names come from AWS's records.
 * An association still CREATING does not forward yet.
 * An inbound endpoint's IPs answer like the VPC resolver of its VPC, if it is OPERATIONAL.
 */
export function sandboxDns(estate: SandboxEstate, vpcId: string): DnsLookup {
  const viaVpc = (vpc: string, name: string): string[] => {
    const rules = estate.state.network.resolverRules
      .filter(
        (r) =>
          r.ruleType === 'FORWARD' && associationsOf(estate, r).some((a) => a.vpc === vpc && a.status !== 'CREATING'),
      )
      .filter((r) => name === r.domain || name.endsWith(`.${r.domain}`))
      .sort((a, b) => b.domain.length - a.domain.length);
    const rule = rules[0];
    if (!rule) {
      const address = estate.seed.awsRecords[name];
      if (!address) throw dnsError('ENOTFOUND', name);
      return [address];
    }
    for (const target of rule.targets) {
      const server = estate.seed.onPrem.dnsServers.find((s) => s.ip === target.ip);
      if (!server) continue; // nothing answers at that address: Resolver tries the next target
      const address = server.records[name];
      if (!address) throw dnsError('ENOTFOUND', name);
      return [address];
    }
    throw dnsError('ETIMEOUT', name);
  };
  return {
    async resolve4(name, servers) {
      estate.record('dns', servers?.length ? 'QueryInboundEndpoint' : 'QueryVpcResolver');
      const fqdn = name.toLowerCase().replace(/\.$/, '');
      const fault = estate.faultOn('dns:resolve4');
      if (fault) throw dnsError(fault.error, fqdn);
      if (!servers?.length) return viaVpc(vpcId, fqdn);
      // Only an ATTACHED address answers (IpAddressStatus; lib/net/resolver-endpoints.ts SERVING_IP_STATUSES).
      const endpoint = estate.state.network.resolverEndpoints.find(
        (e) => e.direction === 'INBOUND' && e.ips.some((ip) => ip.status === 'ATTACHED' && servers.includes(ip.ip)),
      );
      if (!endpoint || endpoint.status !== 'OPERATIONAL') throw dnsError('ETIMEOUT', fqdn);
      return viaVpc(endpoint.vpcId, fqdn);
    },
  };
}
