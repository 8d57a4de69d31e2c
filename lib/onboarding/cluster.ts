import type { EC2Client } from '@aws-sdk/client-ec2';
import { DescribeVpcsCommand } from '@aws-sdk/client-ec2';
import {
  AuthenticationMode,
  type Cluster,
  ClusterStatus,
  DescribeAccessEntryCommand,
  DescribeClusterCommand,
  type EKSClient,
  paginateListAccessEntries,
  ResourceNotFoundException,
} from '@aws-sdk/client-eks';
import { cidrContainsCidr, cidrContainsIp, cidrsOverlap, isRfc1918, parseCidr } from '../domain/ipv4';
import { kubeletSkewProblem } from '../domain/kubernetes';
import { judgeOs } from '../domain/operating-systems';
import {
  ClusterNotActiveError,
  ClusterNotFoundError,
  HybridAccessEntryMissingError,
  type HybridOpsError,
  KubernetesVersionSkewError,
  NodeIpOutsideRemoteNodeNetworkError,
  PodCidrOutsideRemotePodNetworkError,
  RemoteNetworkInvalidError,
  RemoteNetworkNotConfiguredError,
  UnsupportedOperatingSystemError,
} from '../errors';
import type { OnboardingRequest } from './request';

/** What onboarding needs to know about a cluster, read from DescribeCluster and DescribeVpcs. */
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

/** Reads the cluster and its VPC's CIDR blocks. */
export async function describeClusterFacts(
  clients: { eks: EKSClient; ec2: EC2Client },
  clusterName: string,
): Promise<ClusterFacts> {
  let cluster: Cluster;
  try {
    const answer = await clients.eks.send(new DescribeClusterCommand({ name: clusterName }));
    if (!answer.cluster) throw new ResourceNotFoundException({ $metadata: {}, message: 'no cluster in answer' });
    cluster = answer.cluster;
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

/**
 * Everything that makes this cluster unable to take this node, each as the named error the
 * workflow fails with. The API lists them all in its 400; preflight throws the first.
 */
export function clusterFitProblems(request: OnboardingRequest, facts: ClusterFacts): HybridOpsError[] {
  const problems: HybridOpsError[] = [];
  const name = facts.name;
  const os = judgeOs(request.node.os);
  if (!os.supported) {
    problems.push(
      new UnsupportedOperatingSystemError(
        `${request.node.name} runs ${request.node.os}: ${os.reason}.`,
        'Install a supported OS on the server.',
      ),
    );
  }
  if (facts.status !== ClusterStatus.ACTIVE) {
    problems.push(
      new ClusterNotActiveError(
        `Cluster ${name} is ${facts.status}, not ACTIVE.`,
        'Wait until the cluster is ACTIVE (aws eks describe-cluster), then submit again.',
      ),
    );
  }
  if (facts.remoteNodeCidrs.length === 0) {
    problems.push(
      new RemoteNetworkNotConfiguredError(
        `Cluster ${name} has no remoteNetworkConfig with remote node networks, so no hybrid node can join it.`,
        'Add the on-prem node CIDRs (and pod CIDRs) with aws eks update-cluster-config --remote-network-config.',
      ),
    );
    return problems;
  }
  const networkProblems = remoteNetworkProblems(facts);
  if (networkProblems.length) {
    problems.push(
      new RemoteNetworkInvalidError(
        `Cluster ${name} has an invalid remote network: ${networkProblems.join('; ')}.`,
        'Use RFC 1918 remote CIDRs that overlap neither each other, the VPC CIDRs nor the service CIDR.',
      ),
    );
  }
  if (!facts.remoteNodeCidrs.some((c) => cidrContainsIp(parseCidr(c), request.node.ip))) {
    problems.push(
      new NodeIpOutsideRemoteNodeNetworkError(
        `Node IP ${request.node.ip} is outside the remote node networks of ${name} (${facts.remoteNodeCidrs.join(', ')}).`,
        'Use the node address inside a remote node CIDR, or add its network to the cluster remoteNetworkConfig.',
      ),
    );
  }
  if (request.node.podCidr) {
    const pod = parseCidr(request.node.podCidr);
    if (!facts.remotePodCidrs.some((c) => cidrContainsCidr(parseCidr(c), pod))) {
      const have = facts.remotePodCidrs.length ? facts.remotePodCidrs.join(', ') : 'none configured';
      problems.push(
        new PodCidrOutsideRemotePodNetworkError(
          `Pod CIDR ${request.node.podCidr} is not inside a remote pod network of ${name} (${have}).`,
          'Pick a pod CIDR inside a remote pod network, or add one to the cluster remoteNetworkConfig.',
        ),
      );
    }
  }
  const skew = kubeletSkewProblem(request.kubernetesVersion ?? facts.version, facts.version);
  if (skew) {
    problems.push(new KubernetesVersionSkewError(`${skew}.`, `Request kubernetesVersion ${facts.version} or omit it.`));
  }
  return problems;
}

/**
 * Checks the hybrid nodes role has an access entry of type HYBRID_LINUX. Matches the role by
 * name, since an access entry's principal ARN may be written with or without the role's path.
 */
export async function assertHybridAccessEntry(
  eks: EKSClient,
  facts: ClusterFacts,
  roleName: string,
): Promise<{ principalArn: string }> {
  const bareName = roleName.split('/').pop() ?? roleName;
  const fix = `Create it: aws eks create-access-entry --cluster-name ${facts.name} --principal-arn arn:aws:iam::${facts.accountId}:role/${bareName} --type HYBRID_LINUX`;
  if (facts.authenticationMode === AuthenticationMode.CONFIG_MAP) {
    throw new HybridAccessEntryMissingError(
      `Cluster ${facts.name} uses authentication mode CONFIG_MAP, which has no access entries.`,
      `Switch to API or API_AND_CONFIG_MAP, then: ${fix}`,
    );
  }
  const candidates: string[] = [];
  for await (const page of paginateListAccessEntries({ client: eks }, { clusterName: facts.name })) {
    for (const arn of page.accessEntries ?? []) {
      if (arn.includes(':role/') && arn.split('/').pop() === bareName) candidates.push(arn);
    }
  }
  for (const principalArn of candidates) {
    const entry = await eks.send(new DescribeAccessEntryCommand({ clusterName: facts.name, principalArn }));
    if (entry.accessEntry?.type === 'HYBRID_LINUX') return { principalArn };
  }
  throw new HybridAccessEntryMissingError(
    candidates.length
      ? `The access entry for role ${bareName} in ${facts.name} is not of type HYBRID_LINUX.`
      : `Role ${bareName} has no access entry in cluster ${facts.name}, so its nodes cannot authenticate.`,
    fix,
  );
}
