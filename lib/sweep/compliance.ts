import { cidrContainsIp, parseCidr } from '../domain/ipv4';
import { judgeOs } from '../domain/operating-systems';
import { type ObservedSgRule, reachesNfs } from '../efs/nfs';
import type { ClusterFacts } from '../cluster/facts';
import { remoteNetworkProblems } from '../cluster/remote-network';
import { costForHours, HYBRID_VCPU_HOUR_USD, usd } from '../pricing';
import { TAG_KEYS } from '../tags';
import type { SweepFinding } from './findings';

export interface ManagedInstanceFacts {
  instanceId: string;
  /** The activation's default instance name: the node name it was onboarded as. */
  name?: string;
  platformName?: string;
  platformVersion?: string;
  ipAddress?: string;
  pingStatus?: string;
  /** Registered through this project for this cluster (tagged with its EKSClusterARN and a request id). */
  ours: boolean;
}

export interface ActivationFacts {
  id: string;
  expired: boolean;
  expirationDate: string;
  registrationsCount: number;
  registrationLimit: number;
  tags: Array<{ Key: string; Value: string }>;
}

export interface HybridNodeFacts {
  name: string;
  internalIps: string[];
  vcpus?: number;
  /** `nvidia.com/gpu` capacity and allocatable, for a Node whose capacity has GPUs. */
  gpus?: { capacity: number; allocatable: number };
}

export interface ComplianceInput {
  cluster: Pick<ClusterFacts, 'name' | 'arn' | 'vpcCidrs' | 'serviceCidr' | 'remoteNodeCidrs' | 'remotePodCidrs'>;
  instances: ManagedInstanceFacts[];
  activations: ActivationFacts[];
  nodes: HybridNodeFacts[];
  efs?: {
    fileSystemId: string;
    encrypted: boolean;
    securityGroupId: string;
    rules: ObservedSgRule[];
    allowedCidrs: string[];
  };
  insights: Array<{
    id: string;
    name: string;
    category?: string;
    description?: string;
    status?: string;
    recommendation?: string;
  }>;
  now: Date;
  /** What a hybrid vCPU-hour costs (the sweep's configured rate); default {@link HYBRID_VCPU_HOUR_USD}. */
  pricePerVcpuHour?: number;
}

/** SSM's platform name and version as this project's OS id (`Ubuntu` 22.04 -> ubuntu-22.04). */
export function osIdOf(platformName = '', platformVersion = ''): string {
  const name = platformName.toLowerCase();
  const major = platformVersion.split('.')[0] ?? '';
  if (name.includes('ubuntu')) return `ubuntu-${platformVersion.split('.').slice(0, 2).join('.')}`;
  if (name.includes('red hat') || name === 'rhel') return `rhel-${major}`;
  if (name.includes('amazon linux')) return major === '2023' ? 'al2023' : `amazon-linux-${major}`;
  if (name.includes('rocky')) return `rocky-${major}`;
  if (name.includes('bottlerocket')) return 'bottlerocket';
  return `${name.replace(/\s+/g, '-')}-${platformVersion}`;
}

const DAY = 24 * 3600_000;
const tag = (tags: ActivationFacts['tags'], key: string) => tags.find((t) => t.Key === key)?.Value;
const named = (i: ManagedInstanceFacts) => (i.name ? `${i.instanceId} (${i.name})` : i.instanceId);

/** A compliance finding before it is stamped with its check and cluster. */
type Found = Omit<SweepFinding, 'check' | 'cluster'>;

/** Managed instances whose OS EKS Hybrid Nodes does not support. */
function unsupportedOsFindings(input: ComplianceInput): Found[] {
  return input.instances.flatMap((i): Found[] => {
    const verdict = judgeOs(osIdOf(i.platformName, i.platformVersion));
    if (verdict.supported) return [];
    return [
      {
        id: `compliance:unsupported-os:${i.instanceId}`,
        severity: 'warning',
        resource: i.instanceId,
        message: `${named(i)} runs ${i.platformName ?? '?'} ${i.platformVersion ?? '?'}: ${verdict.reason}.`,
        fix: 'Reinstall the server with a supported OS and onboard it again; AWS supports the hybrid integration on those only.',
      },
    ];
  });
}

/** This cluster's activations that expired or expire unused, or let more than one server join. */
function activationFindings(input: ComplianceInput): Found[] {
  const found: Found[] = [];
  const now = input.now.getTime();
  const ours = (tags: ActivationFacts['tags']) => tag(tags, TAG_KEYS.clusterArn) === input.cluster.arn;
  for (const a of input.activations.filter((x) => ours(x.tags))) {
    const expires = Date.parse(a.expirationDate);
    if (a.registrationsCount === 0 && (a.expired || expires <= now)) {
      found.push({
        id: `compliance:activation-expired-unused:${a.id}`,
        severity: 'warning',
        resource: a.id,
        message: `Activation ${a.id} expired on ${a.expirationDate} without any server registering with it.`,
        fix: `Delete it (aws ssm delete-activation --activation-id ${a.id}); if the server still needs to join, submit a new onboarding.`,
      });
    } else if (a.registrationsCount === 0 && expires - now < DAY) {
      found.push({
        id: `compliance:activation-expiring-unused:${a.id}`,
        severity: 'info',
        resource: a.id,
        message: `Activation ${a.id} expires on ${a.expirationDate} and no server has registered with it yet.`,
        fix: 'Run nodeadm on the server before then, or let it expire and onboard again later.',
      });
    }
    if (a.registrationLimit > 1) {
      found.push({
        id: `compliance:activation-multi-use:${a.id}`,
        severity: 'warning',
        resource: a.id,
        message: `Activation ${a.id} allows ${a.registrationLimit} registrations; one leaked code could join that many machines.`,
        fix: 'Use single-use activations (RegistrationLimit 1), one per node, as POST /nodes issues them.',
      });
    }
  }
  return found;
}

/** Orphans both ways: this project's managed instances that are no Node, and Nodes with no managed instance. */
function orphanFindings(input: ComplianceInput): Found[] {
  const cluster = input.cluster.name;
  const nodeNames = new Set(input.nodes.map((n) => n.name));
  const instanceIds = new Set(input.instances.map((i) => i.instanceId));
  const instancesWithoutNode = input.instances
    .filter((i) => i.ours && !nodeNames.has(i.instanceId))
    .map((i): Found => ({
      id: `compliance:orphan-instance:${i.instanceId}`,
      severity: 'warning',
      resource: i.instanceId,
      message: `Managed instance ${named(i)}, registered by this project for ${cluster}, is no Kubernetes Node of it${i.pingStatus ? ` (SSM agent ${i.pingStatus})` : ''}.`,
      fix: `If the server is gone, deregister it (aws ssm deregister-managed-instance --instance-id ${i.instanceId}); else check its kubelet.`,
    }));
  const nodesWithoutInstance = input.nodes
    .filter((n) => !instanceIds.has(n.name))
    .map((n): Found => ({
      id: `compliance:node-without-instance:${n.name}`,
      severity: 'warning',
      resource: n.name,
      message: `Hybrid Node ${n.name} has no SSM managed instance: it keeps billing, but its credentials can no longer be renewed.`,
      fix: `If the server is gone, delete the Node (kubectl delete node ${n.name}); else onboard it again.`,
    }));
  return [...instancesWithoutNode, ...nodesWithoutInstance];
}

/** Nodes with an InternalIP outside the remote node networks, and remote networks that are invalid. */
function remoteNetworkFindings(input: ComplianceInput): Found[] {
  const cluster = input.cluster.name;
  const remote = input.cluster.remoteNodeCidrs.map(parseCidr);
  const found = input.nodes.flatMap((n): Found[] => {
    const outside = n.internalIps.filter((ip) => !remote.some((c) => cidrContainsIp(c, ip)));
    if (!outside.length) return [];
    return [
      {
        id: `compliance:node-ip-outside-remote-network:${n.name}`,
        severity: 'critical',
        resource: n.name,
        message: `Node ${n.name} has InternalIP ${outside.join(', ')}, outside the remote node networks (${input.cluster.remoteNodeCidrs.join(', ')}).`,
        fix: 'Give the node an address inside a remote node CIDR (kubelet --node-ip), or add its network to remoteNetworkConfig.',
      },
    ];
  });
  const network = remoteNetworkProblems({ ...input.cluster } as ClusterFacts);
  if (network.length) {
    found.push({
      id: `compliance:remote-network:${cluster}`,
      severity: 'critical',
      resource: input.cluster.arn,
      message: `The remote networks of ${cluster} are invalid: ${network.join('; ')}.`,
      fix: 'Use RFC 1918 remote CIDRs that overlap neither each other, the VPC nor the service CIDR.',
    });
  }
  return found;
}

/** EFS not encrypted at rest, and NFS rules wider than the remote CIDRs. */
function efsFindings(input: ComplianceInput): Found[] {
  const efs = input.efs;
  if (!efs) return [];
  const found: Found[] = [];
  if (!efs.encrypted) {
    found.push({
      id: `compliance:efs-unencrypted:${efs.fileSystemId}`,
      severity: 'warning',
      resource: efs.fileSystemId,
      message: `EFS ${efs.fileSystemId} is not encrypted at rest.`,
      fix: 'Create an encrypted file system (KMS, with key rotation) and move the data; encryption is set at creation.',
    });
  }
  for (const r of efs.rules.filter((x) => reachesNfs(x) && x.cidr && !efs.allowedCidrs.includes(x.cidr))) {
    found.push({
      id: `compliance:nfs-open:${efs.securityGroupId}:${r.id}`,
      severity: 'critical',
      resource: `${efs.securityGroupId}/${r.id}`,
      message: `${r.id} lets ${r.cidr} reach NFS on the EFS mount targets; allowed: ${efs.allowedCidrs.join(', ')}.`,
      fix: 'Run the network reconciler in apply mode (POST /reconcile {"mode": "apply"}), or revoke the rule.',
    });
  }
  return found;
}

/**
 * GPU Nodes whose allocatable GPUs fell below their capacity: a GPU the device plugin reports
 * unhealthy (an Xid error, off the bus) leaves allocatable, not capacity (kubernetes/kubernetes#57266);
 * capacity with no allocatable left means the plugin reports none healthy, or is gone. The Node
 * bills per vCPU all the same, so the finding says what it costs a day.
 */
function lostGpuFindings(input: ComplianceInput): Found[] {
  const price = input.pricePerVcpuHour ?? HYBRID_VCPU_HOUR_USD;
  const hostnames = new Map(input.instances.map((i) => [i.instanceId, i.name]));
  return input.nodes.flatMap((n): Found[] => {
    const gpus = n.gpus;
    if (!gpus || gpus.allocatable >= gpus.capacity) return [];
    const lost = gpus.capacity - gpus.allocatable;
    const vcpus = n.vcpus ?? 0;
    const perDay = costForHours(vcpus, 24, price);
    const hostname = hostnames.get(n.name);
    const node = hostname ? `${n.name} (${hostname})` : n.name;
    const none = gpus.allocatable === 0;
    return [
      {
        id: `compliance:gpu-lost:${n.name}`,
        severity: 'critical',
        resource: n.name,
        message: none
          ? `Node ${node} has none of its ${gpus.capacity} GPUs allocatable: all ${lost} lost (the NVIDIA device plugin reports none healthy, or is not running), while the node bills ${usd(perDay)} per day.`
          : `Node ${node} has ${gpus.allocatable} of its ${gpus.capacity} GPUs allocatable: ${lost} GPU${lost === 1 ? '' : 's'} lost, while the node bills ${usd(perDay)} per day.`,
        evidence: `status.capacity nvidia.com/gpu ${gpus.capacity}, status.allocatable nvidia.com/gpu ${gpus.allocatable}; ${vcpus} vCPU x ${price} USD per vCPU-hour x 24 h = ${usd(perDay)}.`,
        fix: `On the host, run nvidia-smi (a GPU missing, or ERR!) and look for NVIDIA Xid errors in the kernel log (sudo dmesg -T | grep -i xid; Xid 79: the GPU fell off the bus); read the device plugin pod's logs (kubectl get pods -A -o wide --field-selector spec.nodeName=${n.name} | grep nvidia-device-plugin, then kubectl logs -n <namespace> <pod>)${none ? ' and check that its DaemonSet runs on the node' : ''}. A plugin restart or a reboot may bring the GPU back; if the hardware failed, drain and offboard the node (DELETE /nodes/${n.name}) until it is repaired: it bills until its Node is deleted.`,
      },
    ];
  });
}

/** EKS insights about hybrid nodes that are not passing. */
function insightFindings(input: ComplianceInput): Found[] {
  // Configuration insights are about hybrid nodes by definition (EKS API reference, InsightsFilter).
  const aboutHybrid = (x: ComplianceInput['insights'][number]) =>
    x.category === 'MISCONFIGURATION' || /hybrid/i.test(`${x.name} ${x.description ?? ''}`);
  return input.insights
    .filter((insight) => aboutHybrid(insight) && insight.status !== 'PASSING')
    .map((insight): Found => ({
      id: `compliance:insight:${insight.id}`,
      severity: insight.status === 'ERROR' ? 'critical' : 'warning',
      resource: insight.id,
      message: `EKS insight "${insight.name}" is ${insight.status ?? 'not passing'}${insight.description ? `: ${insight.description}` : ''}.`,
      fix: insight.recommendation ?? 'See the insight in the EKS console (Cluster insights).',
    }));
}

/**
 * Compliance of one cluster's hybrid estate; each finding names the resource, what is wrong and
 * the fix: unsupported OS, unused or multi-use activations, orphans both ways, Node IPs outside
 * the remote node CIDRs, overlapping remote CIDRs, EFS at rest, NFS rules wider than the remote
 * CIDRs, GPU Nodes that lost GPUs, and EKS insights about hybrid nodes.
 */
export function complianceFindings(input: ComplianceInput): SweepFinding[] {
  const cluster = input.cluster.name;
  return [
    unsupportedOsFindings,
    activationFindings,
    orphanFindings,
    remoteNetworkFindings,
    efsFindings,
    lostGpuFindings,
    insightFindings,
  ].flatMap((part) => part(input).map((f): SweepFinding => ({ check: 'compliance', cluster, ...f })));
}
