import { Resolver } from 'node:dns/promises';

/** Name resolution, as a seam: real DNS in Lambda, the sandbox's simulated resolvers locally. */
export interface DnsLookup {
  /**
   * The A records of `name`, asked of `servers` (IPv4 addresses), or of the host's own resolver
   * (in a VPC-attached Lambda: the VPC resolver, where forwarding rules apply) when none are given.
   */
  resolve4(name: string, servers?: string[]): Promise<string[]>;
}

/** Real DNS through node:dns, with a short timeout so a dead path fails fast. */
export const systemDns: DnsLookup = {
  async resolve4(name, servers) {
    const resolver = new Resolver({ timeout: 2000, tries: 2 });
    if (servers?.length) resolver.setServers(servers);
    return resolver.resolve4(name);
  },
};
