import type { EKSClient } from '@aws-sdk/client-eks';
import { clusterAccess, describeCluster } from '../cluster/facts';
import type { TargetCluster } from './target';

/** The cluster's ARN (its instances' `EKSClusterARN` tag) and how to reach its Kubernetes API. */
export async function describeTargetCluster(eks: EKSClient, name: string, region: string): Promise<TargetCluster> {
  const cluster = await describeCluster(eks, name);
  return { name: cluster.name ?? name, arn: cluster.arn ?? '', access: clusterAccess(cluster, name, region) };
}
