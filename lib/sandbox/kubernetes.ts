import {
  createdAnswer,
  deletedAnswer,
  evictionAnswer,
  logAnswer,
  podRunAnswer,
  type KubeAccess,
  type KubeAnswer,
  kubernetesFailure,
  nodeAnswer,
} from '../kube/eks-kube-api';
import type { KubeApiFactory, KubeNode, KubePod } from '../kube/types';
import type { SandboxEstate } from './estate';
import { kubernetesFaultError, type SandboxFault } from './faults';
import { createdPod, podRunOf } from './gpu';
import type { SandboxNode, SandboxPod } from './state';
import { advanceKubernetes, evict, HYBRID_LABEL, kubernetesOf, markDeleted, podKey, statusBody } from './workloads';

/**
 * The sandbox's Kubernetes API: Nodes (the on-prem servers' kubelets create them,
 * lib/sandbox/on-prem.ts), the pods on them and the Eviction API (the controllers that keep the
 * pods, and the budgets the evictions honour, are lib/sandbox/workloads.ts). Like the on-prem side
 * it moves with the sandbox clock: looking only observes. Its answers go through the EKS client's own
 * interpretation of the HTTP answer (lib/kube/eks-kube-api.ts), and so do injected faults
 * (targets `kubernetes:<Verb>`: GetNode, ListNodes, PatchNode, DeleteNode, ListPods, EvictPod,
 * DeletePod, CreatePod, GetPod, GetPodLog; error: an HTTP status), so a call meets here what it would meet in EKS.
 */

/** The node controller taints a cordoned Node so (https://kubernetes.io/docs/reference/labels-annotations-taints/#node-kubernetes-io-unschedulable). */
const UNSCHEDULABLE_TAINT = 'node.kubernetes.io/unschedulable:NoSchedule';

export function toKubeNodeFromSandbox(node: SandboxNode, region: string): KubeNode {
  return {
    name: node.name,
    labels: node.labels,
    internalIps: [node.internalIp],
    ready: node.ready,
    capacity: node.capacity,
    allocatable: node.allocatable,
    providerId: `eks-hybrid:///${region}/${node.cluster}/${node.name}`,
    createdAt: node.createdAt,
    unschedulable: node.unschedulable === true,
    kubeletVersion: node.kubeletVersion,
  };
}

function toKubePodFromSandbox(pod: SandboxPod): KubePod {
  return {
    namespace: pod.namespace,
    name: pod.name,
    uid: pod.uid,
    nodeName: pod.nodeName,
    phase: pod.phase,
    ...(pod.controller ? { controller: { ...pod.controller } } : {}),
    mirror: pod.mirror,
    terminating: pod.deletionTimestamp !== undefined,
    emptyDir: pod.emptyDir,
  };
}

/**
 * The pods bound to a Node now, sorted by namespace and name, without a call being recorded: what
 * the host itself sees (nodeadm's pod validation lists them with the kubelet's own credentials).
 */
export function podsOnNode(estate: SandboxEstate, cluster: string, nodeName: string): KubePod[] {
  advanceKubernetes(estate);
  return Object.values(kubernetesOf(estate.state).pods)
    .filter((p) => p.cluster === cluster && p.nodeName === nodeName)
    .sort((a, b) => a.namespace.localeCompare(b.namespace) || a.name.localeCompare(b.name))
    .map(toKubePodFromSandbox);
}

/** A Kubernetes Status body for an injected fault's HTTP status. */
function faultAnswer(fault: SandboxFault): KubeAnswer {
  const status = Number(fault.error);
  if (!Number.isInteger(status)) {
    throw new Error(`A ${fault.on} fault takes an HTTP status as its error, not ${fault.error}.`);
  }
  return { status, body: statusBody(status, fault.message ?? `sandbox fault on ${fault.on}`) };
}

/**
 * One recorded call of `kubernetes:<verb>`: an `error` fault is answered with its HTTP status
 * through `interpret` (what the EKS client makes of that answer); a `network` fault never reaches
 * the API server; a `lost-response` fault does the work, then loses the answer.
 */
function faulted<T>(
  estate: SandboxEstate,
  cluster: string,
  verb: string,
  interpret: (answer: KubeAnswer) => T,
  work: () => T,
): T {
  estate.record('kubernetes', verb);
  const fault = estate.faultOn(`kubernetes:${verb}`);
  if (fault?.effect === 'error') return interpret(faultAnswer(fault));
  if (fault?.effect === 'network') throw kubernetesFaultError(fault, cluster, verb);
  const result = work();
  estate.save();
  if (fault?.effect === 'lost-response') throw kubernetesFaultError(fault, cluster, verb);
  return result;
}

const failedList = (cluster: string, what: string, access: KubeAccess) => (answer: KubeAnswer) => {
  throw kubernetesFailure(cluster, answer.status, answer.body, what, access);
};

/** The sandbox's Kubernetes API for each of its clusters, as the EKS one is in AWS. */
export function sandboxKubeApi(estate: SandboxEstate): KubeApiFactory {
  return (cluster) => {
    const nodeNamed = (name: string) => {
      const node = estate.state.nodes[name];
      return node?.cluster === cluster.name ? node : undefined;
    };
    const k = () => kubernetesOf(estate.state);
    const pages = function* <T>(items: T[], pageSize: number, verb: string, what: string, access: KubeAccess) {
      for (let i = 0; i === 0 || i < items.length; i += pageSize) {
        yield faulted(estate, cluster.name, verb, failedList(cluster.name, what, access), () =>
          items.slice(i, i + pageSize),
        );
      }
    };

    return {
      async getNode(name) {
        const what = `read Node ${name}`;
        return faulted(
          estate,
          cluster.name,
          'GetNode',
          (a) => nodeAnswer(cluster.name, a, what, 'reader'),
          () => {
            advanceKubernetes(estate);
            const node = nodeNamed(name);
            return node && toKubeNodeFromSandbox(node, cluster.region);
          },
        );
      },

      async *listHybridNodes(pageSize = 500) {
        advanceKubernetes(estate);
        const nodes = Object.values(estate.state.nodes)
          .filter((n) => n.cluster === cluster.name && n.labels[HYBRID_LABEL] === 'hybrid')
          .sort((a, b) => a.name.localeCompare(b.name))
          .map((n) => toKubeNodeFromSandbox(n, cluster.region));
        yield* pages(nodes, pageSize, 'ListNodes', 'list Nodes', 'reader');
      },

      async setUnschedulable(name, unschedulable) {
        const what = `${unschedulable ? 'cordon' : 'uncordon'} Node ${name}`;
        return faulted(
          estate,
          cluster.name,
          'PatchNode',
          (a) => nodeAnswer(cluster.name, a, what, 'operator'),
          () => {
            advanceKubernetes(estate);
            const node = nodeNamed(name);
            if (!node) return undefined;
            node.unschedulable = unschedulable;
            const others = node.taints.filter((t) => t !== UNSCHEDULABLE_TAINT);
            node.taints = unschedulable ? [...others, UNSCHEDULABLE_TAINT] : others;
            return toKubeNodeFromSandbox(node, cluster.region);
          },
        );
      },

      async deleteNode(name) {
        const what = `delete Node ${name}`;
        return faulted(
          estate,
          cluster.name,
          'DeleteNode',
          (a) => deletedAnswer(cluster.name, a, what),
          () => {
            advanceKubernetes(estate);
            if (!nodeNamed(name)) return false;
            delete estate.state.nodes[name];
            advanceKubernetes(estate); // its pods go with it; their ReplicaSets replace them
            return true;
          },
        );
      },

      async *listPodsOnNode(name, pageSize = 500) {
        advanceKubernetes(estate);
        const pods = Object.values(k().pods)
          .filter((p) => p.cluster === cluster.name && p.nodeName === name)
          .sort((a, b) => a.namespace.localeCompare(b.namespace) || a.name.localeCompare(b.name))
          .map(toKubePodFromSandbox);
        yield* pages(pods, pageSize, 'ListPods', `list the pods on Node ${name}`, 'operator');
      },

      async evictPod(namespace, name) {
        const what = `evict pod ${namespace}/${name}`;
        return faulted(
          estate,
          cluster.name,
          'EvictPod',
          (a) => evictionAnswer(cluster.name, a, what),
          () => {
            advanceKubernetes(estate);
            const answer = evict(estate, cluster.name, namespace, name);
            advanceKubernetes(estate); // its ReplicaSet replaces it at once
            return evictionAnswer(cluster.name, answer, what);
          },
        );
      },

      // A plain DELETE ignores PodDisruptionBudgets (https://kubernetes.io/docs/concepts/workloads/pods/disruptions/).
      async deletePod(namespace, name) {
        const what = `delete pod ${namespace}/${name}`;
        return faulted(
          estate,
          cluster.name,
          'DeletePod',
          (a) => deletedAnswer(cluster.name, a, what),
          () => {
            advanceKubernetes(estate);
            const pod = k().pods[podKey(cluster.name, namespace, name)];
            if (!pod) return false;
            markDeleted(pod, estate.clock.now());
            advanceKubernetes(estate);
            return true;
          },
        );
      },

      // A pod of that name, even one terminating, makes a create 409 AlreadyExists.
      async createPod(namespace, manifest) {
        const what = `create pod ${namespace}/${manifest.metadata.name}`;
        return faulted(
          estate,
          cluster.name,
          'CreatePod',
          (a) => createdAnswer(cluster.name, a, what),
          () => {
            advanceKubernetes(estate);
            const key = podKey(cluster.name, namespace, manifest.metadata.name);
            if (k().pods[key]) return 'exists' as const;
            const uid = estate.nextId('', 32).replace(/^(.{8})(.{4})(.{4})(.{4})(.{12})$/, '$1-$2-$3-$4-$5');
            k().pods[key] = createdPod(
              cluster.name,
              { ...manifest, metadata: { ...manifest.metadata, namespace } },
              uid,
            );
            advanceKubernetes(estate);
            return 'created' as const;
          },
        );
      },

      async getPod(namespace, name) {
        const what = `read pod ${namespace}/${name}`;
        return faulted(
          estate,
          cluster.name,
          'GetPod',
          (a) => podRunAnswer(cluster.name, a, what),
          () => {
            advanceKubernetes(estate);
            const pod = k().pods[podKey(cluster.name, namespace, name)];
            return pod && podRunOf(pod);
          },
        );
      },

      // The log from its start, cut at limitBytes (the API's limitBytes parameter).
      async readPodLog(namespace, name, limitBytes) {
        const what = `read the log of pod ${namespace}/${name}`;
        return faulted(
          estate,
          cluster.name,
          'GetPodLog',
          (a) => logAnswer(cluster.name, a, what),
          () => {
            advanceKubernetes(estate);
            const pod = k().pods[podKey(cluster.name, namespace, name)];
            return (
              pod &&
              Buffer.from(pod.run?.log ?? '', 'utf8')
                .subarray(0, limitBytes)
                .toString('utf8')
            );
          },
        );
      },
    };
  };
}
