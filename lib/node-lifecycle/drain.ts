import type { Clock } from '../clock';
import { DrainBlockedError } from '../errors';
import type { KubeApi, KubeApiFactory, KubePod } from '../kube/types';
import { hybridNode } from './cordon';
import { type DrainInput, type DrainProgress, MAX_LISTED_PODS, type PodRef } from './state';

/** How many blocking pods a DrainBlockedError names before it counts the rest. */
const NAMED_IN_ERROR = 10;
const MAX_REASON_CHARS = 300;

/** Past the deadline, why a pod still terminating counts as blocking the drain. */
export const STILL_TERMINATING =
  'still terminating after its eviction (a long grace period, a finalizer, or a kubelet that no longer answers)';

const ref = (pod: KubePod): PodRef => ({ namespace: pod.namespace, name: pod.name });
const show = (pod: PodRef) => `${pod.namespace}/${pod.name}`;
const clip = (text: string) => (text.length > MAX_REASON_CHARS ? `${text.slice(0, MAX_REASON_CHARS - 3)}...` : text);

/**
 * Task DrainNode: one pass of `kubectl drain --ignore-daemonsets` through the Eviction API (kubectl
 * pkg/drain; Kubernetes "API-initiated eviction"). It lists the pods bound to the Node, leaves
 * DaemonSet pods (they tolerate the cordon and would come back) and static pods' mirrors (the kubelet
 * owns them; no API call removes them), and asks the Eviction API to evict each other pod not already
 * terminating. Evictions a PodDisruptionBudget refuses (429) are asked again on the next pass.
 *
 * The workflow calls it until `done`: a pass that finds only DaemonSet and mirror pods (evicted
 * pods gone, not merely terminating; `nodeadm upgrade` and `uninstall` refuse a node with others).
 * Each pass lists afresh, so a pod scheduled before the cordon took effect is evicted too.
 *
 * `deadline` bounds the whole drain, waiting for evicted pods included, as kubectl's `--timeout` does.
 * Past it, the pods that will not leave (refused, or still terminating): with `force`, deleted past
 * their budgets and listed in `forced`; without, {@link DrainBlockedError} naming them and the fix.
 */
export async function drainNode(
  deps: { nodes: KubeApiFactory; clock: Clock },
  input: DrainInput,
): Promise<DrainProgress> {
  const api = deps.nodes(input.cluster);
  await hybridNode(api, input);
  const pastDeadline = deps.clock.now().getTime() > Date.parse(input.deadline);
  const skipped = { daemonSet: 0, mirror: 0 };
  const evicting: PodRef[] = [];
  const blocked: Array<PodRef & { reason: string }> = [];
  const forced: PodRef[] = [];

  /** A pod that will not leave: deleted when the drain may force it, else reported. */
  const stuck = async (pod: KubePod, reason: string) => {
    if (pastDeadline && input.force) {
      if (await api.deletePod(pod.namespace, pod.name)) forced.push(ref(pod));
    } else {
      blocked.push({ ...ref(pod), reason: clip(reason) });
    }
  };

  for await (const page of api.listPodsOnNode(input.nodeName)) {
    for (const pod of page) {
      if (pod.mirror) skipped.mirror += 1;
      else if (pod.controller?.kind === 'DaemonSet') skipped.daemonSet += 1;
      else if (pod.terminating) {
        if (pastDeadline) await stuck(pod, STILL_TERMINATING);
        else evicting.push(ref(pod));
      } else await evict(api, pod, { evicting, stuck });
    }
  }

  if (pastDeadline && !input.force && blocked.length > 0) throw blockedError(input, blocked);
  return {
    done: evicting.length === 0 && blocked.length === 0 && forced.length === 0,
    evicting: evicting.slice(0, MAX_LISTED_PODS),
    blocked: blocked.slice(0, MAX_LISTED_PODS),
    forced: forced.slice(0, MAX_LISTED_PODS),
    skipped,
    counts: { evicting: evicting.length, blocked: blocked.length, forced: forced.length },
  };
}

async function evict(
  api: KubeApi,
  pod: KubePod,
  into: { evicting: PodRef[]; stuck: (pod: KubePod, reason: string) => Promise<void> },
): Promise<void> {
  const answer = await api.evictPod(pod.namespace, pod.name);
  if (answer.outcome === 'evicting') into.evicting.push(ref(pod));
  else if (answer.outcome === 'refused') await into.stuck(pod, answer.reason);
  // 'gone': it left on its own between the list and the eviction.
}

function blockedError(input: DrainInput, blocked: Array<PodRef & { reason: string }>): DrainBlockedError {
  const named = blocked.slice(0, NAMED_IN_ERROR).map((p) => `${show(p)} (${p.reason})`);
  const more = blocked.length > NAMED_IN_ERROR ? `, and ${blocked.length - NAMED_IN_ERROR} more` : '';
  const terminating = blocked.some((p) => p.reason === STILL_TERMINATING);
  const refused = blocked.some((p) => p.reason !== STILL_TERMINATING);
  const fixes = [
    ...(refused
      ? [
          'let the PodDisruptionBudget allow a disruption (kubectl get pdb -A: scale its workload up, or lower minAvailable) and run again',
        ]
      : []),
    ...(terminating
      ? ['find what holds the terminating pods (kubectl describe pod: finalizers, a host that is down)']
      : []),
    'or run again with force: true to delete these pods past their budgets once the drain timeout passes',
  ];
  return new DrainBlockedError(
    `Draining Node ${input.nodeName} in ${input.cluster.name} passed its deadline ${input.deadline} with ${blocked.length} pod(s) that would not leave: ${named.join('; ')}${more}.`,
    `${fixes.join('; ')}.`.replace(/^./, (c) => c.toUpperCase()),
  );
}
