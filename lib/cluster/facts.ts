import type { EC2Client } from '@aws-sdk/client-ec2';
import { DescribeVpcsCommand } from '@aws-sdk/client-ec2';
import { type Cluster, DescribeClusterCommand, type EKSClient, ResourceNotFoundException } from '@aws-sdk/client-eks';
import { ClusterNotFoundError } from '../errors';
import type { ClusterAccess } from '../kube/types';

/** What the workflows need to know about a cluster, read from DescribeCluster and DescribeVpcs. */
export interface ClusterFacts {
  name: string;
  arn: string;
  accountId: string;
  status: string;
  version: string;
  endpoint: string;
  certificateAuthority: string;
  vpcId?: string;
  subnetIds: string[];
  vpcCidrs: string[];
  serviceCidr?: string;
  remoteNodeCidrs: string[];
  remotePodCidrs: string[];
  authenticationMode?: string;
}

/** DescribeCluster: the cluster, or {@link ClusterNotFoundError} when this account and Region have none of that name. */
export async function describeCluster(eks: EKSClient, clusterName: string): Promise<Cluster> {
  try {
    const answer = await eks.send(new DescribeClusterCommand({ name: clusterName }));
    if (!answer.cluster) throw new ResourceNotFoundException({ $metadata: {}, message: 'no cluster in answer' });
    return answer.cluster;
  } catch (error) {
    if (error instanceof ResourceNotFoundException) {
      throw new ClusterNotFoundError(
        `EKS cluster '${clusterName}' does not exist in this account and Region.`,
        'Check the cluster name and the Region this stage is deployed to (aws eks list-clusters).',
        { cause: error },
      );
    }
    throw error;
  }
}

/** How the Kubernetes API of a cluster DescribeCluster answered for is reached. */
export const clusterAccess = (cluster: Cluster, name: string, region: string): ClusterAccess => ({
  name: cluster.name ?? name,
  region,
  endpoint: cluster.endpoint ?? '',
  certificateAuthority: cluster.certificateAuthority?.data ?? '',
});

/** Reads the cluster and its VPC's CIDR blocks. */
export async function describeClusterFacts(
  clients: { eks: EKSClient; ec2: EC2Client },
  clusterName: string,
): Promise<ClusterFacts> {
  const cluster = await describeCluster(clients.eks, clusterName);
  const vpcId = cluster.resourcesVpcConfig?.vpcId;
  const vpcCidrs: string[] = [];
  if (vpcId) {
    const vpcs = await clients.ec2.send(new DescribeVpcsCommand({ VpcIds: [vpcId] }));
    for (const vpc of vpcs.Vpcs ?? []) {
      for (const assoc of vpc.CidrBlockAssociationSet ?? []) {
        if (assoc.CidrBlock && assoc.CidrBlockState?.State === 'associated') vpcCidrs.push(assoc.CidrBlock);
      }
    }
  }
  const arn = cluster.arn ?? '';
  return {
    name: cluster.name ?? clusterName,
    arn,
    accountId: arn.split(':')[4] ?? '',
    status: cluster.status ?? 'UNKNOWN',
    version: cluster.version ?? '',
    endpoint: cluster.endpoint ?? '',
    certificateAuthority: cluster.certificateAuthority?.data ?? '',
    vpcId,
    subnetIds: cluster.resourcesVpcConfig?.subnetIds ?? [],
    vpcCidrs,
    serviceCidr: cluster.kubernetesNetworkConfig?.serviceIpv4Cidr,
    remoteNodeCidrs: (cluster.remoteNetworkConfig?.remoteNodeNetworks ?? []).flatMap((n) => n.cidrs ?? []),
    remotePodCidrs: (cluster.remoteNetworkConfig?.remotePodNetworks ?? []).flatMap((n) => n.cidrs ?? []),
    authenticationMode: cluster.accessConfig?.authenticationMode,
  };
}
