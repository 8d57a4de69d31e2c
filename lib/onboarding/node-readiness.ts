import type { Clock } from '../clock';
import { NodeIdentityMismatchError, NodeJoinTimeoutError, NodeNotReadyError } from '../errors';
import type { ClusterAccess, KubeNode, NodeReaderFactory } from '../kube/types';
import { ONBOARDING_TIMINGS, requestLabelKey, type Settings } from '../settings';
import { backoffSeconds } from './backoff';
import type { ManagedInstance, NodeState } from './state';

export const HYBRID_COMPUTE_TYPE_LABEL = 'eks.amazonaws.com/compute-type';

export interface NodeCheckInput {
  clusterAccess: ClusterAccess;
  instance: ManagedInstance;
  requestId: string;
  nodeIp: string;
  previous?: NodeState;
}

/** True when the Ready condition says the container network is missing: no CNI runs yet. */
export function isWaitingForCni(ready: KubeNode['ready']): boolean {
  const text = `${ready?.reason ?? ''} ${ready?.message ?? ''}`;
  return /NetworkPluginNotReady|network plugin|cni plugin not initialized|NetworkReady=false/i.test(text);
}

export function cniHint(nodeName: string): string {
  return `Node ${nodeName} is registered but NotReady because no CNI runs on it yet (the VPC CNI does not run on hybrid nodes). Install Cilium or Calico configured with the cluster's remote pod CIDRs; the node turns Ready once the CNI runs on it.`;
}

/**
 * One look at the Kubernetes Node named by the managed-instance id. Ready, hybrid, carrying this
 * request's label and the requested InternalIP: done. NotReady for want of a CNI past the grace
 * period: done, reported with the hint (the most common first-join state). NotReady for another
 * reason past the grace period, a Node that never appears, or a Node that is not this request's:
 * a named failure.
 */
export async function checkNode(
  deps: { nodes: NodeReaderFactory; clock: Clock; settings: Pick<Settings, 'labelPrefix'> },
  input: NodeCheckInput,
): Promise<NodeState> {
  const name = input.instance.instanceId;
  const node = await deps.nodes(input.clusterAccess).getNode(name);
  const now = deps.clock.now();
  const attempt = (input.previous?.attempt ?? 0) + 1;
  const t = ONBOARDING_TIMINGS;
  const wait = backoffSeconds(attempt - 1, t.nodeFirstWaitSeconds, t.nodeMaxWaitSeconds, t.backoffRate);
  const pending = (extra: Partial<NodeState>): NodeState => ({
    settled: false,
    phase: 'pending',
    attempt,
    nextWaitSeconds: wait,
    ...extra,
  });

  const deadline = Date.parse(input.instance.registeredAt) + t.nodeJoinTimeoutMinutes * 60_000;
  if (!node) {
    if (now.getTime() > deadline) {
      throw new NodeJoinTimeoutError(
        `Server ${name} registered with SSM at ${input.instance.registeredAt} but no Kubernetes Node ${name} appeared in ${input.clusterAccess.name} within ${t.nodeJoinTimeoutMinutes} minutes.`,
        'On the server, read journalctl -u kubelet; check it reaches the cluster endpoint on TCP 443 and that the hybrid nodes role has its HYBRID_LINUX access entry.',
      );
    }
    return pending({});
  }

  // A kubelet creates its Node before it reports addresses; judge the identity once it has.
  if (node.internalIps.length === 0 && node.ready?.status !== 'True' && now.getTime() <= deadline) {
    return pending({ name });
  }
  assertIdentity(node, input, requestLabelKey(deps.settings));
  const internalIp = input.nodeIp;
  if (node.ready?.status === 'True') {
    return { settled: true, phase: 'ready', attempt, nextWaitSeconds: 0, name, internalIp, readyAt: now.toISOString() };
  }

  const notReadySince = input.previous?.notReadySince ?? now.toISOString();
  const condition = [node.ready?.reason, node.ready?.message].filter(Boolean).join(': ') || 'no Ready condition yet';
  const waitingForCni = isWaitingForCni(node.ready);
  const hint = waitingForCni ? cniHint(name) : undefined;
  if (now.getTime() - Date.parse(notReadySince) < t.cniGraceMinutes * 60_000) {
    return pending({ name, internalIp, notReadySince, condition, hint });
  }
  if (waitingForCni) {
    return {
      settled: true,
      phase: 'not-ready-no-cni',
      attempt,
      nextWaitSeconds: 0,
      name,
      internalIp,
      notReadySince,
      condition,
      hint,
    };
  }
  throw new NodeNotReadyError(
    `Node ${name} has been NotReady since ${notReadySince}: ${condition}.`,
    'On the server, read journalctl -u kubelet and kubectl describe node; fix what the Ready condition names.',
  );
}

function assertIdentity(node: KubeNode, input: NodeCheckInput, labelKey: string): void {
  const problems: string[] = [];
  if (node.labels[HYBRID_COMPUTE_TYPE_LABEL] !== 'hybrid') {
    problems.push(
      `label ${HYBRID_COMPUTE_TYPE_LABEL} is '${node.labels[HYBRID_COMPUTE_TYPE_LABEL] ?? '(none)'}', not 'hybrid'`,
    );
  }
  if (node.labels[labelKey] !== input.requestId) {
    problems.push(`label ${labelKey} is '${node.labels[labelKey] ?? '(none)'}', not '${input.requestId}'`);
  }
  if (!node.internalIps.includes(input.nodeIp)) {
    problems.push(`InternalIP is ${node.internalIps.join(', ') || '(none)'}, not ${input.nodeIp}`);
  }
  if (problems.length) {
    throw new NodeIdentityMismatchError(
      `Node ${node.name} is not the node this request onboarded: ${problems.join('; ')}.`,
      "Make sure the server used this request's NodeConfig unchanged and that its primary address is the requested IP (set --node-ip in the kubelet flags if it has several).",
    );
  }
}
