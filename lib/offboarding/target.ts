import {
  InvalidResourceId,
  ListTagsForResourceCommand,
  paginateDescribeInstanceInformation,
  ResourceTypeForTagging,
  type SSMClient,
} from '@aws-sdk/client-ssm';
import { PAGE_SIZE } from '../aws/page-sizes';
import type { ClusterAccess, KubeNode, NodeReaderFactory } from '../kube/types';
import { TAG_KEYS } from '../tags';

/**
 * Which node an offboarding is about: the Kubernetes Node and the SSM managed instance behind it,
 * found from the name the request gives (the Node name, which for SSM hybrid nodes is the
 * managed-instance id, or the name it was onboarded as), and whether this stage may take it out.
 * `DELETE /nodes/{node}` answers from it; PrepareOffboarding looks again before it changes anything.
 */

/** The label nodeadm puts on a hybrid node, and its value. */
export const COMPUTE_TYPE_LABEL = 'eks.amazonaws.com/compute-type';
/** SSM hybrid nodes are named after their managed instance (REFERENCE.md section 7). */
const MANAGED_INSTANCE_ID = /^mi-[0-9a-f]{17}$/;

export interface TargetCluster {
  name: string;
  arn: string;
  access: ClusterAccess;
}

/** A registered managed instance, with the tags SSM copied onto it from its activation. */
export interface TargetInstance {
  instanceId: string;
  /** `EKSClusterARN`: the cluster its activation was issued for. */
  clusterArn?: string;
  /** `hybridops:node-name`: the name it was onboarded under through this project. */
  onboardedName?: string;
  /** `hybridops:request-id`: the onboarding request that registered it. */
  requestId?: string;
}

export interface OffboardingTarget {
  /** The Kubernetes Node's name (`mi-...` for SSM hybrid nodes). */
  nodeName: string;
  /** The Node, or undefined when there is none any more. */
  node?: KubeNode;
  /** The managed instance, or undefined when none is registered under the Node's name. */
  instance?: TargetInstance;
  /** The name the node lock is taken under: the onboarded name, else the Node name. */
  lockName: string;
}

export type Resolution =
  | { kind: 'found'; target: OffboardingTarget }
  /** Neither a Node nor a managed instance of this cluster by that name: nothing to offboard. */
  | { kind: 'gone'; message: string }
  /** There is something by that name, but this stage may not offboard it. */
  | { kind: 'refused'; problem: string; fix: string };

export interface TargetDeps {
  ssm: SSMClient;
  nodes: NodeReaderFactory;
}

/** Finds the node `name` names in `cluster` and says whether it may be offboarded. */
export async function resolveOffboardingTarget(
  deps: TargetDeps,
  cluster: TargetCluster,
  name: string,
): Promise<Resolution> {
  const reader = deps.nodes(cluster.access);
  if (!MANAGED_INSTANCE_ID.test(name)) {
    // A Node by that very name (an IAM Roles Anywhere node names itself), else the managed
    // instances onboarded under that name.
    const direct = await reader.getNode(name);
    if (direct) return judge(cluster, { nodeName: name, node: direct, lockName: name });
    const named = await instancesNamed(deps.ssm, name);
    const candidates: OffboardingTarget[] = [];
    for (const instanceId of named) {
      const instance = await instanceFacts(deps.ssm, instanceId);
      const node = await reader.getNode(instanceId);
      if (node || instance?.clusterArn === cluster.arn) {
        candidates.push({ nodeName: instanceId, node, instance, lockName: instance?.onboardedName ?? instanceId });
      }
    }
    const [only] = candidates;
    if (candidates.length > 1) {
      const list = candidates.map((c) => `${c.nodeName} (${c.node ? 'a Node' : 'no Node'})`).join(', ');
      return {
        kind: 'refused',
        problem: `'${name}' was onboarded ${candidates.length} times into ${cluster.name} and names more than one node: ${list}.`,
        fix: 'Offboard each by its Node name (mi-...), as kubectl get nodes lists it.',
      };
    }
    if (!only) {
      const { message } = gone(cluster, name);
      return {
        kind: 'gone',
        message: `${message} A Node whose managed instance was deregistered is found by its Node name only: if kubectl get nodes still lists it, offboard it by that name (mi-...).`,
      };
    }
    return judge(cluster, only);
  }
  const [node, instance] = [await reader.getNode(name), await instanceFacts(deps.ssm, name)];
  return judge(cluster, { nodeName: name, node, instance, lockName: instance?.onboardedName ?? name });
}

const gone = (cluster: TargetCluster, name: string): Extract<Resolution, { kind: 'gone' }> => ({
  kind: 'gone',
  message: `${cluster.name} has no Node and no registered managed instance named ${name}: there is nothing to offboard (it was offboarded already, or never joined).`,
});

/** Whether this stage may offboard what it found. */
function judge(cluster: TargetCluster, target: OffboardingTarget): Resolution {
  const { node, instance, nodeName } = target;
  if (!node && !instance) return gone(cluster, nodeName);
  const computeType = node?.labels[COMPUTE_TYPE_LABEL];
  if (node && computeType !== 'hybrid') {
    return {
      kind: 'refused',
      problem: `Node ${nodeName} is not an EKS hybrid node (label ${COMPUTE_TYPE_LABEL} is ${computeType ? `'${computeType}'` : 'not set'}, not 'hybrid').`,
      fix: 'This API offboards hybrid nodes only; remove other nodes with the tooling that made them (managed node group, Karpenter, kubectl).',
    };
  }
  // AWS's hybrid nodes role lets a node deregister itself only when its instance carries this tag
  // (REFERENCE.md section 8), and this stage's roles deregister only such instances.
  if (instance && instance.clusterArn !== cluster.arn) {
    return {
      kind: 'refused',
      problem: instance.clusterArn
        ? `Managed instance ${instance.instanceId} belongs to another cluster (its ${TAG_KEYS.clusterArn} tag is ${instance.clusterArn}).`
        : `Managed instance ${instance.instanceId} is not tagged ${TAG_KEYS.clusterArn}=${cluster.arn}, so it is not known to be a hybrid node of ${cluster.name}.`,
      fix: instance.clusterArn
        ? 'Offboard it through the stage of that cluster.'
        : `Offboard it by hand (kubectl drain, nodeadm uninstall, kubectl delete node), or give its activations the ${TAG_KEYS.clusterArn} tag, as AWS's hybrid nodes role requires for deregistration.`,
    };
  }
  return { kind: 'found', target };
}

/** The instance's tags, or undefined when no managed instance of that id is registered. */
export async function instanceFacts(ssm: SSMClient, instanceId: string): Promise<TargetInstance | undefined> {
  try {
    const answer = await ssm.send(
      new ListTagsForResourceCommand({ ResourceType: ResourceTypeForTagging.MANAGED_INSTANCE, ResourceId: instanceId }),
    );
    const tag = (key: string) => answer.TagList?.find((t) => t.Key === key)?.Value;
    return {
      instanceId,
      clusterArn: tag(TAG_KEYS.clusterArn),
      onboardedName: tag(TAG_KEYS.nodeName),
      requestId: tag(TAG_KEYS.requestId),
    };
  } catch (error) {
    // SSM's answer for a managed instance it does not know (deregistered, or never registered).
    if (error instanceof InvalidResourceId) return undefined;
    throw error;
  }
}

/**
 * Registered managed instances onboarded under `name` (their `hybridops:node-name` tag). A tag
 * filter cannot be combined with others, and SSM filters each page, so every page is read.
 */
async function instancesNamed(ssm: SSMClient, name: string): Promise<string[]> {
  const ids: string[] = [];
  for await (const page of paginateDescribeInstanceInformation(
    { client: ssm, pageSize: PAGE_SIZE.ssmDescribeInstanceInformation },
    { Filters: [{ Key: `tag:${TAG_KEYS.nodeName}`, Values: [name] }] },
  )) {
    for (const i of page.InstanceInformationList ?? []) if (i.InstanceId) ids.push(i.InstanceId);
  }
  return ids.sort();
}
