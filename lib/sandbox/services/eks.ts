import { ResourceNotFoundException } from '@aws-sdk/client-eks';
import { paginate, type SandboxEstate, type ServiceHandlers } from '../estate';

const meta = { $metadata: {} };

function cluster(estate: SandboxEstate, name: unknown) {
  const found = estate.seed.clusters.find((c) => c.name === name);
  if (!found) throw new ResourceNotFoundException({ ...meta, message: `No cluster found for name: ${String(name)}.` });
  return found;
}

const clusterArn = (estate: SandboxEstate, name: string) =>
  `arn:aws:eks:${estate.seed.region}:${estate.seed.account}:cluster/${name}`;

/** EKS: clusters and their access entries, from the seed. */
export const eksHandlers: ServiceHandlers = {
  DescribeCluster(estate, input) {
    const c = cluster(estate, input.name);
    return {
      cluster: {
        name: c.name,
        arn: clusterArn(estate, c.name),
        status: c.status,
        version: c.version,
        endpoint: c.endpoint,
        certificateAuthority: { data: c.certificateAuthority },
        resourcesVpcConfig: {
          vpcId: c.vpcId,
          subnetIds: c.subnetIds,
          endpointPublicAccess: true,
          endpointPrivateAccess: false,
        },
        kubernetesNetworkConfig: { serviceIpv4Cidr: c.serviceCidr, ipFamily: 'ipv4' },
        remoteNetworkConfig: c.remoteNodeCidrs.length
          ? {
              remoteNodeNetworks: [{ cidrs: c.remoteNodeCidrs }],
              remotePodNetworks: c.remotePodCidrs.length ? [{ cidrs: c.remotePodCidrs }] : [],
            }
          : undefined,
        accessConfig: { authenticationMode: c.authenticationMode },
      },
    };
  },

  ListAccessEntries(estate, input) {
    const c = cluster(estate, input.clusterName);
    const { page, next } = paginate(
      c.accessEntries.map((e) => e.principalArn),
      input.nextToken,
      input.maxResults,
      100,
    );
    return { accessEntries: page, nextToken: next };
  },

  ListInsights(estate, input) {
    const c = cluster(estate, input.clusterName);
    const filter = (input.filter ?? {}) as { categories?: string[]; statuses?: string[] };
    const { page, next } = paginate(
      c.insights.filter(
        (i) =>
          (!filter.categories?.length || filter.categories.includes(i.category)) &&
          (!filter.statuses?.length || filter.statuses.includes(i.status)),
      ),
      input.nextToken,
      input.maxResults,
      100,
    );
    return {
      insights: page.map((i) => ({
        id: i.id,
        name: i.name,
        category: i.category,
        kubernetesVersion: c.version,
        description: i.description,
        insightStatus: { status: i.status, reason: i.reason },
        lastRefreshTime: estate.clock.now(),
      })),
      nextToken: next,
    };
  },

  DescribeAccessEntry(estate, input) {
    const c = cluster(estate, input.clusterName);
    const entry = c.accessEntries.find((e) => e.principalArn === input.principalArn);
    if (!entry)
      throw new ResourceNotFoundException({ ...meta, message: `The specified principalArn could not be found.` });
    return {
      accessEntry: {
        clusterName: c.name,
        principalArn: entry.principalArn,
        type: entry.type,
        accessEntryArn: `arn:aws:eks:${estate.seed.region}:${estate.seed.account}:access-entry/${c.name}/role/${entry.principalArn.split('/').pop()}`,
      },
    };
  },
};
