import {
  AuthenticationMode,
  ClusterStatus,
  DescribeAccessEntryCommand,
  type EKSClient,
  paginateListAccessEntries,
} from '@aws-sdk/client-eks';
import type { ClusterFacts } from '../cluster/facts';
import { remoteNetworkProblems } from '../cluster/remote-network';
import { cidrContainsCidr, cidrContainsIp, parseCidr } from '../domain/ipv4';
import { kubeletSkewProblem } from '../domain/kubernetes';
import { judgeOs } from '../domain/operating-systems';
import {
  ClusterNotActiveError,
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
