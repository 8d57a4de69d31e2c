import { DescribeClusterCommand, type EKSClient, ResourceNotFoundException } from '@aws-sdk/client-eks';
import { ClusterNotFoundError } from '../errors';
import type { TargetCluster } from './target';

/** The cluster's ARN (its instances' `EKSClusterARN` tag) and how to reach its Kubernetes API. */
export async function describeTargetCluster(eks: EKSClient, name: string, region: string): Promise<TargetCluster> {
  try {
    const { cluster } = await eks.send(new DescribeClusterCommand({ name }));
    if (!cluster) throw new ResourceNotFoundException({ $metadata: {}, message: 'no cluster in the answer' });
    return {
      name: cluster.name ?? name,
      arn: cluster.arn ?? '',
      access: {
        name: cluster.name ?? name,
        region,
        endpoint: cluster.endpoint ?? '',
        certificateAuthority: cluster.certificateAuthority?.data ?? '',
      },
    };
  } catch (error) {
    if (error instanceof ResourceNotFoundException) {
      throw new ClusterNotFoundError(
        `EKS cluster '${name}' does not exist in this account and Region.`,
        "Check the stage's clusterName param and the Region it is deployed to (aws eks list-clusters).",
        { cause: error },
      );
    }
    throw error;
  }
}
