import type { EKSClient } from '@aws-sdk/client-eks';
import {
  ListTagsForResourceCommand,
  PingStatus,
  paginateDescribeInstanceInformation,
  ResourceTypeForTagging,
  type SSMClient,
} from '@aws-sdk/client-ssm';
import { clusterAccess, describeCluster } from '../cluster/facts';
import { PAGE_SIZE } from '../aws/page-sizes';
import type { Clock } from '../clock';
import {
  KUBELET_MAX_MINOR_SKEW,
  kubeletSkewProblem,
  parseKubeletVersion,
  parseKubernetesVersion,
} from '../domain/kubernetes';
import {
  ClusterNotActiveError,
  InvalidRequestError,
  KubernetesVersionSkewError,
  UpgradeTooLargeError,
} from '../errors';
import type { KubeNode, NodeReaderFactory } from '../kube/types';
import { lockParameter, type Settings } from '../settings';
import type { RunStore } from '../store';
import { TAG_KEYS } from '../tags';
import { MAX_NODES_PER_UPGRADE } from './limits';
import { matchesSelector, parseSelector } from './selector';
import {
  type PlannedNode,
  SKIPPED_IN_STATE,
  type SkippedNode,
  type UpgradeInput,
  type UpgradePlan,
  upgradeKeys,
} from './state';

export interface PlanDeps {
  eks: EKSClient;
  ssm: SSMClient;
  nodes: NodeReaderFactory;
  store: RunStore;
  clock: Clock;
  settings: Pick<Settings, 'region' | 'parameterPrefix'>;
}

/** Kubernetes `limit` for the Node list: no maximum; 500 is kubectl's --chunk-size default. */
const NODE_PAGE = 500;

/** The cluster as an upgrade needs it: ACTIVE, its version, and how to reach its API. */
async function describeActiveCluster(eks: EKSClient, name: string, region: string) {
  const cluster = await describeCluster(eks, name);
  if (cluster.status !== 'ACTIVE') {
    // An UPDATING cluster is having its control plane upgraded: nodes follow once it is done.
    throw new ClusterNotActiveError(
      `EKS cluster '${name}' is ${cluster.status ?? 'in an unknown state'}, not ACTIVE.`,
      'Wait until it is ACTIVE (aws eks describe-cluster --query cluster.status), then submit the upgrade again.',
    );
  }
  return {
    arn: cluster.arn ?? '',
    version: cluster.version ?? '',
    access: clusterAccess(cluster, name, region),
  };
}

/**
 * Whether a node at `from` may be upgraded in place to `target` under a `controlPlane` control
 * plane, and if not why (Kubernetes version skew policy,
 * https://kubernetes.io/releases/version-skew-policy/: kubelet "must not be newer than
 * kube-apiserver" and "may be up to three minor versions older"; nodeadm upgrade enforces it in its
 * kubelet-version-skew-validation phase; it does not downgrade): undefined when it may.
 */
export function versionSkip(
  from: string | undefined,
  target: string,
  controlPlane: string,
): Pick<SkippedNode, 'reason' | 'detail'> | undefined {
  const have = parseKubeletVersion(from);
  const want = parseKubernetesVersion(target);
  const plane = parseKubernetesVersion(controlPlane);
  if (!have || !want || !plane) {
    return {
      reason: 'version-unknown',
      detail: `its kubelet version is ${from ? `'${from}', which is not a Kubernetes version` : 'not reported yet'}; check kubectl get node -o wide`,
    };
  }
  const order = (v: { major: number; minor: number }) => v.major * 1000 + v.minor;
  if (order(have) === order(want)) return { reason: 'at-target', detail: `kubelet ${from} is at ${target} already` };
  if (order(have) > order(want)) {
    return {
      reason: 'newer-than-target',
      detail: `kubelet ${from} is newer than ${target}; nodeadm upgrade does not downgrade`,
    };
  }
  if (have.major !== plane.major || plane.minor - have.minor > KUBELET_MAX_MINOR_SKEW) {
    return {
      reason: 'too-old',
      detail: `kubelet ${from} is more than ${KUBELET_MAX_MINOR_SKEW} minor versions behind the ${controlPlane} control plane, outside the version skew policy: replace the node (offboard it, then onboard it again at ${target})`,
    };
  }
  return undefined;
}

interface Candidate {
  /** The name the request gave, or the Node's. */
  asked: string;
  node?: KubeNode;
  /** Known when the request named the node by its onboarded name. */
  onboardedName?: string;
}

/** Every hybrid Node of the cluster, by name. */
async function hybridNodes(deps: PlanDeps, access: UpgradePlan['access']): Promise<Map<string, KubeNode>> {
  const nodes = new Map<string, KubeNode>();
  for await (const page of deps.nodes(access).listHybridNodes(NODE_PAGE)) {
    for (const node of page) nodes.set(node.name, node);
  }
  return nodes;
}

/**
 * The managed instances tagged for this cluster (`EKSClusterARN`, the tag onboarding's
 * activations carry and the tag SendCommand is scoped by), with their SSM agent's PingStatus;
 * more tag filters narrow it (tag filters combine only with tag filters: SSM API reference,
 * DescribeInstanceInformation, Filters).
 */
async function taggedInstances(
  ssm: SSMClient,
  clusterArn: string,
  more: Array<{ Key: string; Values: string[] }> = [],
): Promise<Map<string, { ping?: PingStatus; name?: string }>> {
  const found = new Map<string, { ping?: PingStatus; name?: string }>();
  for await (const page of paginateDescribeInstanceInformation(
    { client: ssm, pageSize: PAGE_SIZE.ssmDescribeInstanceInformation },
    { Filters: [{ Key: `tag:${TAG_KEYS.clusterArn}`, Values: [clusterArn] }, ...more] },
  )) {
    // Name: the activation's DefaultInstanceName, which onboarding sets to the node's name.
    for (const i of page.InstanceInformationList ?? []) {
      if (i.InstanceId) found.set(i.InstanceId, { ping: i.PingStatus, name: i.Name });
    }
  }
  return found;
}

/** The nodes the request names, selects, or (by default) every hybrid Node. */
async function candidates(
  deps: PlanDeps,
  input: UpgradeInput,
  clusterArn: string,
  nodes: Map<string, KubeNode>,
): Promise<Candidate[]> {
  const { nodes: names, selector } = input.request;
  if (!names) {
    const parsed = selector ? parseSelector(selector) : { ok: true as const, requirements: [] };
    if (!parsed.ok) {
      throw new InvalidRequestError(
        `The selector '${selector}' is not a label selector: ${parsed.problems.join('; ')}.`,
        'Start upgrades with POST /upgrades, which checks the selector.',
      );
    }
    return [...nodes.values()]
      .filter((n) => matchesSelector(parsed.requirements, n.labels))
      .map((n) => ({ asked: n.name, node: n }));
  }
  const found: Candidate[] = [];
  for (const asked of names) {
    const byNodeName = nodes.get(asked);
    if (byNodeName) {
      found.push({ asked, node: byNodeName });
      continue;
    }
    // The name it was onboarded under: its instance's hybridops:node-name tag (one query a name,
    // at most MAX_NODES_PER_UPGRADE of them).
    const instances = await taggedInstances(deps.ssm, clusterArn, [
      { Key: `tag:${TAG_KEYS.nodeName}`, Values: [asked] },
    ]);
    const node = [...instances.keys()].map((id) => nodes.get(id)).find((n) => n !== undefined);
    found.push({ asked, node, onboardedName: asked });
  }
  return found;
}

/** The name a node was onboarded under, from its instance's tag; its Node name when it has none. */
async function onboardedName(ssm: SSMClient, instanceId: string): Promise<string> {
  const answer = await ssm.send(
    new ListTagsForResourceCommand({ ResourceType: ResourceTypeForTagging.MANAGED_INSTANCE, ResourceId: instanceId }),
  );
  return answer.TagList?.find((t) => t.Key === TAG_KEYS.nodeName)?.Value ?? instanceId;
}

/**
 * Plans the rollout: the target is not newer than the control plane (nor outside its skew);
 * the nodes are those named (by Node name or the name they were onboarded under), those a label
 * selector matches, or every hybrid Node below the target; each is upgraded only if its version
 * may reach the target, its managed instance is tagged for this cluster and Online (the upgrade
 * runs through SSM Run Command), and it is Ready. The rest are reported with the reason. The
 * nodes to upgrade go in waves of `maxUnavailable`, in name order; the whole plan goes to the
 * run store, the state keeps what the waves need.
 */
export async function planUpgrade(deps: PlanDeps, input: UpgradeInput): Promise<UpgradePlan> {
  const { request, upgradeId } = input;
  const target = request.kubernetesVersion;
  const cluster = await describeActiveCluster(deps.eks, request.cluster, deps.settings.region);
  const skew = kubeletSkewProblem(target, cluster.version);
  if (skew) {
    throw new KubernetesVersionSkewError(
      `Cannot upgrade nodes of ${request.cluster} to ${target}: ${skew}.`,
      `Upgrade the control plane first (aws eks update-cluster-version --name ${request.cluster} --kubernetes-version ${target}), or choose a target from ${cluster.version} down to three minors below it.`,
    );
  }
  const nodes = await hybridNodes(deps, cluster.access);
  const instances = await taggedInstances(deps.ssm, cluster.arn);
  const skipped: SkippedNode[] = [];
  const chosen: Array<{ node: KubeNode; onboardedName?: string }> = [];
  let atTarget = 0;
  for (const c of await candidates(deps, input, cluster.arn, nodes)) {
    const skip = (reason: SkippedNode['reason'], detail: string) =>
      skipped.push({
        name: c.onboardedName ?? (c.node && instances.get(c.node.name)?.name) ?? c.asked,
        ...(c.node ? { nodeName: c.node.name } : {}),
        ...(c.node?.kubeletVersion ? { from: c.node.kubeletVersion } : {}),
        reason,
        detail,
      });
    const node = c.node;
    if (!node) {
      skip('not-found', `no hybrid Node of ${request.cluster} is named ${c.asked} or was onboarded under that name`);
      continue;
    }
    const version = versionSkip(node.kubeletVersion, target, cluster.version);
    if (version && !request.nodes && (version.reason === 'at-target' || version.reason === 'newer-than-target')) {
      atTarget += 1; // not asked for by name: only the nodes below the target are the request's
      continue;
    }
    if (version) skip(version.reason, version.detail);
    else if (!instances.has(node.name)) {
      skip(
        'not-managed',
        `it is not an SSM managed instance tagged ${TAG_KEYS.clusterArn}=${cluster.arn}, so this stage cannot run nodeadm on it; upgrade it by hand (nodeadm upgrade ${target} -c file://<NodeConfig>)`,
      );
    } else if (node.ready?.status !== 'True') {
      const why = [node.ready?.reason, node.ready?.message].filter(Boolean).join(': ') || 'no Ready condition';
      skip('not-ready', `it is NotReady (${why}); fix it or offboard it (DELETE /nodes/${node.name}) first`);
    } else if (instances.get(node.name)?.ping !== PingStatus.ONLINE) {
      skip(
        'offline',
        `its SSM agent is ${instances.get(node.name)?.ping ?? 'not reporting'}, so it cannot take a command; bring the agent back Online (systemctl status amazon-ssm-agent) and submit again`,
      );
    } else chosen.push({ node, onboardedName: c.onboardedName });
  }
  if (chosen.length > MAX_NODES_PER_UPGRADE) {
    throw new UpgradeTooLargeError(
      `${chosen.length} nodes of ${request.cluster} would be upgraded; one upgrade rolls at most ${MAX_NODES_PER_UPGRADE}, so that its execution stays within Step Functions' 25,000-event history even when every node takes its longest.`,
      `Split the rollout: submit POST /upgrades with at most ${MAX_NODES_PER_UPGRADE} names in nodes, or a selector matching at most that many, and the next once it has finished.`,
    );
  }
  const planned: Array<Omit<PlannedNode, 'wave'>> = [];
  for (const { node, onboardedName: known } of chosen) {
    const name = known ?? (await onboardedName(deps.ssm, node.name));
    planned.push({
      nodeName: node.name,
      name,
      instanceId: node.name,
      lockParameter: lockParameter(deps.settings, request.cluster, name),
      from: node.kubeletVersion ?? '',
    });
  }
  planned.sort((a, b) => a.name.localeCompare(b.name) || a.nodeName.localeCompare(b.nodeName));
  const waves: PlannedNode[][] = [];
  planned.forEach((n, i) => {
    const wave = Math.floor(i / request.maxUnavailable);
    waves[wave] = [...(waves[wave] ?? []), { ...n, wave }];
  });
  const key = upgradeKeys(upgradeId).plan;
  const plan: UpgradePlan = {
    cluster: request.cluster,
    clusterArn: cluster.arn,
    controlPlaneVersion: cluster.version,
    target,
    access: cluster.access,
    plannedAt: deps.clock.now().toISOString(),
    key,
    waves,
    waveCount: waves.length,
    toUpgrade: planned.length,
    skipped,
    skippedCount: skipped.length,
    atTarget,
  };
  await deps.store.putJson(key, plan);
  return { ...plan, skipped: skipped.slice(0, SKIPPED_IN_STATE) };
}
