import { NodeNotFoundError, NotHybridNodeError } from '../errors';
import type { KubeApiFactory, KubeNode, NodeReader } from '../kube/types';
import type { NodeStepInput } from './state';

/** The label nodeadm puts on every hybrid node (`eks.amazonaws.com/compute-type=hybrid`). */
export const COMPUTE_TYPE_LABEL = 'eks.amazonaws.com/compute-type';

/**
 * The Node, if it is a hybrid node: the lifecycle steps' access entry may change every Node of the
 * cluster, so each step checks it is working on one of the nodes this project manages.
 */
export async function hybridNode(api: NodeReader, input: NodeStepInput): Promise<KubeNode> {
  const node = await api.getNode(input.nodeName);
  if (!node) {
    throw new NodeNotFoundError(
      `No Node ${input.nodeName} in cluster ${input.cluster.name}.`,
      `List the hybrid nodes with kubectl get nodes -l ${COMPUTE_TYPE_LABEL}=hybrid and use the Node name (mi-...) or the name it was onboarded under.`,
    );
  }
  const computeType = node.labels[COMPUTE_TYPE_LABEL];
  if (computeType !== 'hybrid') {
    throw new NotHybridNodeError(
      `Node ${input.nodeName} in cluster ${input.cluster.name} is not a hybrid node (${COMPUTE_TYPE_LABEL} is ${computeType ? `"${computeType}"` : 'not set'}).`,
      'Only hybrid nodes are offboarded and upgraded here; manage other nodes with their node group or Karpenter.',
    );
  }
  return node;
}

/**
 * Task CordonNode: marks the hybrid Node unschedulable (`spec.unschedulable: true`, as `kubectl
 * cordon` patches it) so no new pod lands on it. `wasCordoned` says it already was before this run
 * came: the failure paths then leave it cordoned, never lifting someone else's cordon. (A retry after
 * a crash that had already cordoned it also reads `wasCordoned: true`: the safe side, the node stays
 * cordoned and the alert says so.)
 */
export async function cordonNode(
  deps: { nodes: KubeApiFactory },
  input: NodeStepInput,
): Promise<{ wasCordoned: boolean }> {
  const api = deps.nodes(input.cluster);
  const node = await hybridNode(api, input);
  if (node.unschedulable) return { wasCordoned: true };
  const after = await api.setUnschedulable(input.nodeName, true);
  if (!after) {
    throw new NodeNotFoundError(
      `Node ${input.nodeName} was deleted from cluster ${input.cluster.name} while it was being cordoned.`,
      'Nothing to drain: check who deleted it (kubectl get events) and whether its host still runs nodeadm.',
    );
  }
  return { wasCordoned: false };
}

/**
 * Task UncordonNode: makes the Node schedulable again (`spec.unschedulable: false`), after an
 * upgrade, or when a drain could not finish. `uncordoned: false` when the Node is not there.
 */
export async function uncordonNode(
  deps: { nodes: KubeApiFactory },
  input: NodeStepInput,
): Promise<{ uncordoned: boolean }> {
  const after = await deps.nodes(input.cluster).setUnschedulable(input.nodeName, false);
  return { uncordoned: after !== undefined };
}
