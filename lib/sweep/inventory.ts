import type { EC2Client } from '@aws-sdk/client-ec2';
import type { EFSClient } from '@aws-sdk/client-efs';
import { type EKSClient, InsightStatusValue, paginateListInsights } from '@aws-sdk/client-eks';
import {
  DescribeActivationsFilterKeys,
  InstanceInformationFilterKey,
  type InstanceInformationStringFilter,
  paginateDescribeActivations,
  paginateDescribeInstanceInformation,
  ResourceType,
  type SSMClient,
} from '@aws-sdk/client-ssm';
import { PAGE_SIZE } from '../aws/page-sizes';
import { ClusterNotFoundError, splitFix } from '../errors';
import type { NodeReaderFactory } from '../kube/types';
import type { ClusterDesiredState, DesiredState, EfsDesiredState } from '../desired-state/schema';
import { allowedNfsCidrs, NFS_PORT } from '../efs/nfs';
import { observeEfs } from '../efs/observe';
import { type ClusterFacts, describeClusterFacts } from '../cluster/facts';
import { TAG_KEYS } from '../tags';
import type { ActivationFacts, ComplianceInput, ManagedInstanceFacts } from './compliance';
import type { ProbeTarget } from './connectivity';
import { vcpusOf } from '../pricing';
import { ActivationTierUnreadableError } from '../errors';
import { type ManagedInstanceQuota, quotaOf, readActivationTier } from '../ssm-quota';

/**
 * What the nightly sweep looks at, read once a night: per cluster its facts, hybrid Nodes,
 * managed instances, activations, EFS and EKS insights, and the paths to probe. The lists that
 * grow with the estate are read page by page at the largest page size each API allows.
 */

/** A hybrid Node as the sweep needs it. */
export interface InventoryNode {
  name: string;
  internalIps: string[];
  vcpus: number;
  ready: boolean;
  /** When its Ready condition last changed (the NotReady since), if known. */
  since?: string;
  reason?: string;
  /** `spec.unschedulable`: cordoned (set only when it is). */
  cordoned?: boolean;
  /**
   * `nvidia.com/gpu` in its capacity and allocatable, when its capacity has any; allocatable 0
   * when absent (the device plugin is gone, or reports every GPU unhealthy).
   */
  gpus?: { capacity: number; allocatable: number };
}

export interface ClusterInventory {
  name: string;
  /** Set when the cluster could not be read; the other fields are then empty. */
  problem?: { error: string; message: string; fix?: string };
  facts?: ComplianceInput['cluster'];
  nodes: InventoryNode[];
  /** Managed instances that are this cluster's Nodes or carry its EKSClusterARN tag. */
  instances: ManagedInstanceFacts[];
  activations: ActivationFacts[];
  efs?: ComplianceInput['efs'];
  insights: ComplianceInput['insights'];
}

export interface Inventory {
  takenAt: string;
  clusters: ClusterInventory[];
  /**
   * SSM's limit on the account's on-prem managed instances: the tier, and every registered one
   * (whatever its cluster, or none); or why the tier could not be read.
   */
  ssmQuota?: ManagedInstanceQuota | { problem: { error: string; message: string; fix?: string } };
  targets: ProbeTarget[];
  /** Pages read of the lists that grow with the estate (Nodes, instances, activations, insights), per API. */
  pages: Record<string, number>;
}

/** Page sizes: each API's maximum (lib/aws/page-sizes.ts gives the ranges and their source). */
export const PAGE_SIZES = {
  describeInstanceInformation: PAGE_SIZE.ssmDescribeInstanceInformation,
  describeActivations: PAGE_SIZE.ssmDescribeActivations,
  listInsights: PAGE_SIZE.eksListInsights,
  /** Kubernetes `limit`: no maximum; 500 is what kubectl asks for (its --chunk-size default). */
  listNodes: 500,
} as const;

export const KUBELET_PORT = 10250;
export const DNS_PORT = 53;

export interface InventoryDeps {
  ssm: SSMClient;
  eks: EKSClient;
  ec2: EC2Client;
  efs: EFSClient;
  nodes: NodeReaderFactory;
}

/** The clusters a stage sweeps: those its desired state declares, and the one it onboards into. */
export function sweptClusters(desired: DesiredState, stageCluster: string): ClusterDesiredState[] {
  const declared = desired.clusters;
  return declared.some((c) => c.name === stageCluster) ? declared : [{ name: stageCluster }, ...declared];
}

export async function takeInventory(
  deps: InventoryDeps,
  input: { desired: DesiredState; stageCluster: string; region: string; hybridNodesRoleName: string; now: Date },
): Promise<Inventory> {
  const pages: Record<string, number> = {};
  const count = (api: string) => {
    pages[api] = (pages[api] ?? 0) + 1;
  };

  // Account-wide, once: every hybrid managed instance (ping status, OS, IP) and every activation
  // for the hybrid nodes role (their tags say which cluster they are for).
  const allInstances = await describeInstances(
    deps.ssm,
    [{ Key: InstanceInformationFilterKey.RESOURCE_TYPE, Values: [ResourceType.MANAGED_INSTANCE] }],
    count,
  );
  const activations = await hybridActivations(deps.ssm, input.hybridNodesRoleName, count);
  // Every registered on-prem instance counts toward the standard tier: the list above, and one
  // GetServiceSetting for the tier.
  const ssmQuota = await onPremQuota(deps.ssm, allInstances.size);

  const clusters: ClusterInventory[] = [];
  const targets: ProbeTarget[] = [];
  for (const declared of sweptClusters(input.desired, input.stageCluster)) {
    const inventory = await clusterInventory(deps, declared, { ...input, allInstances, activations, count });
    clusters.push(inventory);
    targets.push(...pathsToProbe(declared, inventory));
  }
  return { takenAt: input.now.toISOString(), clusters, targets, pages, ssmQuota };
}

/** The account's SSM quota; a tier that cannot be read is a finding tomorrow, not a failed night. */
async function onPremQuota(ssm: SSMClient, registered: number): Promise<NonNullable<Inventory['ssmQuota']>> {
  try {
    return quotaOf(await readActivationTier(ssm), registered);
  } catch (error) {
    if (!(error instanceof ActivationTierUnreadableError)) throw error;
    return { problem: { error: error.name, message: splitFix(error.message).problem, fix: error.fix } };
  }
}

/** `account <id>`, from a cluster's ARN: the `cluster` of findings about the whole account. */
export function accountLabel(inventory: Pick<Inventory, 'clusters'>): string {
  const arn = inventory.clusters.find((c) => c.facts)?.facts?.arn;
  return arn ? `account ${arn.split(':')[4]}` : 'account';
}

/** Every activation for the hybrid nodes role, with the cluster its EKSClusterARN tag names. */
async function hybridActivations(
  ssm: SSMClient,
  hybridNodesRoleName: string,
  count: (api: string) => void,
): Promise<Array<ActivationFacts & { clusterArn?: string }>> {
  const activations: Array<ActivationFacts & { clusterArn?: string }> = [];
  for await (const page of paginateDescribeActivations(
    { client: ssm, pageSize: PAGE_SIZES.describeActivations },
    { Filters: [{ FilterKey: DescribeActivationsFilterKeys.IAM_ROLE, FilterValues: [hybridNodesRoleName] }] },
  )) {
    count('ssm:DescribeActivations');
    for (const a of page.ActivationList ?? []) {
      if (!a.ActivationId) continue;
      const tags = (a.Tags ?? []).map((t) => ({ Key: t.Key ?? '', Value: t.Value ?? '' }));
      activations.push({
        id: a.ActivationId,
        expired: a.Expired ?? false,
        expirationDate: a.ExpirationDate?.toISOString() ?? '',
        registrationsCount: a.RegistrationsCount ?? 0,
        registrationLimit: a.RegistrationLimit ?? 1,
        tags,
        clusterArn: tags.find((t) => t.Key === TAG_KEYS.clusterArn)?.Value,
      });
    }
  }
  return activations;
}

/** What reading one cluster shares with the rest of the night's inventory. */
interface ClusterContext {
  region: string;
  allInstances: Map<string, ManagedInstanceFacts>;
  activations: Array<ActivationFacts & { clusterArn?: string }>;
  count: (api: string) => void;
}

async function clusterInventory(
  deps: InventoryDeps,
  declared: ClusterDesiredState,
  context: ClusterContext,
): Promise<ClusterInventory> {
  let facts: ClusterFacts;
  try {
    facts = await describeClusterFacts(deps, declared.name);
  } catch (error) {
    if (!(error instanceof ClusterNotFoundError)) throw error;
    const problem = { error: error.name, message: splitFix(error.message).problem, fix: error.fix };
    return { name: declared.name, nodes: [], instances: [], activations: [], insights: [], problem };
  }
  const nodes = await hybridNodes(deps, facts, context);
  const instances = await clusterInstances(deps.ssm, facts, nodes, context);
  const efs = declared.efs ? await efsInventory(deps, declared.efs, facts) : undefined;
  const insights = await hybridInsights(deps.eks, facts, context.count);
  return {
    name: facts.name,
    facts: {
      name: facts.name,
      arn: facts.arn,
      vpcCidrs: facts.vpcCidrs,
      serviceCidr: facts.serviceCidr,
      remoteNodeCidrs: facts.remoteNodeCidrs,
      remotePodCidrs: facts.remotePodCidrs,
    },
    nodes,
    instances,
    activations: context.activations.filter((a) => a.clusterArn === facts.arn).map(({ clusterArn: _arn, ...a }) => a),
    ...(efs ? { efs } : {}),
    insights,
  };
}

/** The cluster's hybrid Nodes, through the Kubernetes API, page by page. */
async function hybridNodes(
  deps: InventoryDeps,
  facts: ClusterFacts,
  context: ClusterContext,
): Promise<InventoryNode[]> {
  const reader = deps.nodes({
    name: facts.name,
    region: context.region,
    endpoint: facts.endpoint,
    certificateAuthority: facts.certificateAuthority,
  });
  const nodes: InventoryNode[] = [];
  for await (const page of reader.listHybridNodes(PAGE_SIZES.listNodes)) {
    context.count('kubernetes:ListNodes');
    for (const n of page) {
      nodes.push({
        name: n.name,
        internalIps: n.internalIps,
        vcpus: vcpusOf(n.capacity.cpu),
        ready: n.ready?.status === 'True',
        ...(n.ready?.since ? { since: n.ready.since } : {}),
        ...(n.ready?.status !== 'True'
          ? { reason: n.ready ? (n.ready.reason ?? `Ready ${n.ready.status}`) : 'no Ready condition' }
          : {}),
        ...(n.unschedulable ? { cordoned: true } : {}),
        ...(Number(n.capacity.gpu ?? 0) > 0
          ? { gpus: { capacity: Number(n.capacity.gpu), allocatable: Number(n.allocatable.gpu ?? 0) } }
          : {}),
      });
    }
  }
  return nodes;
}

/**
 * This cluster's managed instances: its Nodes' (a hybrid Node is named after its managed
 * instance) and those tagged for it (which may have no Node: orphans). Tags are not in the
 * instance list, so the tagged ones are asked for by tag filter.
 */
async function clusterInstances(
  ssm: SSMClient,
  facts: ClusterFacts,
  nodes: InventoryNode[],
  context: ClusterContext,
): Promise<ManagedInstanceFacts[]> {
  const tagged = await describeInstances(
    ssm,
    [
      { Key: `tag:${TAG_KEYS.clusterArn}`, Values: [facts.arn] },
      { Key: 'tag-key', Values: [TAG_KEYS.requestId] },
    ],
    context.count,
  );
  const instances = new Map<string, ManagedInstanceFacts>();
  for (const i of tagged.values()) instances.set(i.instanceId, { ...i, ours: true });
  for (const n of nodes) {
    const i = context.allInstances.get(n.name);
    if (i && !instances.has(i.instanceId)) instances.set(i.instanceId, i);
  }
  return [...instances.values()];
}

/** The declared file system as AWS has it, and which sources may reach it over NFS. */
async function efsInventory(
  deps: InventoryDeps,
  efs: EfsDesiredState,
  facts: ClusterFacts,
): Promise<NonNullable<ClusterInventory['efs']>> {
  const observed = await observeEfs(deps, { efs, cluster: facts });
  return {
    fileSystemId: efs.fileSystemId,
    encrypted: observed.fileSystem.encrypted,
    securityGroupId: efs.securityGroupId,
    rules: observed.securityGroupRules,
    allowedCidrs: allowedNfsCidrs(efs, observed),
  };
}

/** The cluster's EKS insights that are not passing (WARNING, ERROR, UNKNOWN), page by page. */
async function hybridInsights(
  eks: EKSClient,
  facts: ClusterFacts,
  count: (api: string) => void,
): Promise<ClusterInventory['insights']> {
  const insights: ClusterInventory['insights'] = [];
  for await (const page of paginateListInsights(
    { client: eks, pageSize: PAGE_SIZES.listInsights },
    {
      clusterName: facts.name,
      filter: { statuses: [InsightStatusValue.WARNING, InsightStatusValue.ERROR, InsightStatusValue.UNKNOWN] },
    },
  )) {
    count('eks:ListInsights');
    for (const i of page.insights ?? []) {
      if (!i.id || !i.name) continue;
      insights.push({
        id: i.id,
        name: i.name,
        category: i.category,
        description: i.description,
        status: i.insightStatus?.status,
        recommendation: i.insightStatus?.reason,
      });
    }
  }
  return insights;
}

async function describeInstances(
  ssm: SSMClient,
  filters: InstanceInformationStringFilter[],
  count: (api: string) => void,
): Promise<Map<string, ManagedInstanceFacts>> {
  const found = new Map<string, ManagedInstanceFacts>();
  for await (const page of paginateDescribeInstanceInformation(
    { client: ssm, pageSize: PAGE_SIZES.describeInstanceInformation },
    { Filters: filters },
  )) {
    count('ssm:DescribeInstanceInformation');
    for (const i of page.InstanceInformationList ?? []) {
      if (!i.InstanceId) continue;
      found.set(i.InstanceId, {
        instanceId: i.InstanceId,
        ...(i.Name ? { name: i.Name } : {}),
        ...(i.PlatformName ? { platformName: i.PlatformName } : {}),
        ...(i.PlatformVersion ? { platformVersion: i.PlatformVersion } : {}),
        ...(i.IPAddress ? { ipAddress: i.IPAddress } : {}),
        ...(i.PingStatus ? { pingStatus: i.PingStatus } : {}),
        ours: false,
      });
    }
  }
  return found;
}

/**
 * The paths a night probes for one cluster: each hybrid Node's kubelet (TCP 10250, from the
 * control plane's side of the VPN), the on-prem DNS servers its forwarding rules target, and its
 * declared on-prem NFS servers. A host:port is probed once however often it is declared.
 */
export function pathsToProbe(declared: ClusterDesiredState, inventory: ClusterInventory): ProbeTarget[] {
  const targets = new Map<string, ProbeTarget>();
  const add = (t: ProbeTarget) => {
    const key = `${t.host}:${t.port}`;
    if (!targets.has(key)) targets.set(key, t);
  };
  const hostnames = new Map(inventory.instances.map((i) => [i.instanceId, i.name]));
  for (const n of inventory.nodes) {
    const ip = n.internalIps[0];
    const hostname = hostnames.get(n.name);
    const name = hostname ? `${n.name} (${hostname})` : n.name;
    if (ip) add({ cluster: inventory.name, kind: 'kubelet', host: ip, port: KUBELET_PORT, name });
  }
  for (const rule of declared.dns?.outbound.rules ?? []) {
    for (const t of rule.targets) {
      add({ cluster: inventory.name, kind: 'dns', host: t.ip, port: t.port, name: `DNS server for ${rule.domain}` });
    }
  }
  for (const nfs of declared.onPremNfs ?? []) {
    add({ cluster: inventory.name, kind: 'nfs', host: nfs.ip, port: NFS_PORT, name: nfs.name ?? 'on-prem NFS' });
  }
  return [...targets.values()];
}
