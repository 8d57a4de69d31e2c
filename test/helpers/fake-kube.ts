import type {
  ClusterAccess,
  EvictionAnswer,
  KubeApi,
  KubeApiFactory,
  KubeNode,
  KubePod,
  PodManifest,
  PodRun,
} from '#lib/kube/types';

/**
 * A small in-memory KubeApi for the node lifecycle unit tests: Nodes and pods, and an Eviction API
 * whose answer each pod decides (`evictable`: true evicts, a string refuses with that reason, as a
 * PodDisruptionBudget would). An evicted pod is terminating until `finishTerminating()` removes it.
 */
export interface FakePod extends KubePod {
  evictable: true | string;
}

export const CLUSTER: ClusterAccess = {
  name: 'gpu-hybrid-cluster',
  region: 'ap-northeast-2',
  endpoint: 'https://example.eks.amazonaws.com',
  certificateAuthority: 'Y2E=',
};

export function hybridNode(name: string, overrides: Partial<KubeNode> = {}): KubeNode {
  return {
    name,
    labels: { 'eks.amazonaws.com/compute-type': 'hybrid' },
    internalIps: ['10.80.0.11'],
    ready: { status: 'True' },
    capacity: { cpu: '32' },
    allocatable: { cpu: '32' },
    unschedulable: false,
    kubeletVersion: 'v1.31.4-eks-1234567',
    ...overrides,
  };
}

export function pod(name: string, overrides: Partial<FakePod> = {}): FakePod {
  return {
    namespace: 'default',
    name,
    uid: `uid-${name}`,
    nodeName: 'mi-0123456789abcdef0',
    phase: 'Running',
    controller: { kind: 'ReplicaSet', name: `${name}-rs` },
    mirror: false,
    terminating: false,
    emptyDir: false,
    evictable: true,
    ...overrides,
  };
}

export function fakeKube(nodes: KubeNode[], pods: FakePod[] = [], pageSize = 2) {
  const calls: string[] = [];
  const clusters: ClusterAccess[] = [];
  /** Pods created through the API (the GPU smoke test's), by namespace/name: their run and log. */
  const runs = new Map<string, { run: PodRun; log: string }>();
  const created: PodManifest[] = [];
  const api: KubeApi = {
    async getNode(name) {
      calls.push(`get ${name}`);
      const node = nodes.find((n) => n.name === name);
      return node ? structuredClone(node) : undefined;
    },
    async *listHybridNodes() {
      yield structuredClone(nodes);
    },
    async setUnschedulable(name, unschedulable) {
      calls.push(`${unschedulable ? 'cordon' : 'uncordon'} ${name}`);
      const node = nodes.find((n) => n.name === name);
      if (!node) return undefined;
      node.unschedulable = unschedulable;
      return structuredClone(node);
    },
    async deleteNode(name) {
      calls.push(`delete node ${name}`);
      const at = nodes.findIndex((n) => n.name === name);
      if (at < 0) return false;
      nodes.splice(at, 1);
      return true;
    },
    async *listPodsOnNode(name) {
      calls.push(`list pods ${name}`);
      const on = pods.filter((p) => p.nodeName === name).map(({ evictable: _, ...p }) => structuredClone(p));
      for (let i = 0; i < on.length; i += pageSize) yield on.slice(i, i + pageSize);
    },
    async evictPod(namespace, name): Promise<EvictionAnswer> {
      calls.push(`evict ${namespace}/${name}`);
      const found = pods.find((p) => p.namespace === namespace && p.name === name);
      if (!found) return { outcome: 'gone' };
      if (found.evictable !== true) return { outcome: 'refused', reason: found.evictable };
      found.terminating = true;
      return { outcome: 'evicting' };
    },
    async deletePod(namespace, name) {
      calls.push(`delete pod ${namespace}/${name}`);
      const run = runs.get(`${namespace}/${name}`);
      if (run) {
        runs.delete(`${namespace}/${name}`);
        return true;
      }
      const at = pods.findIndex((p) => p.namespace === namespace && p.name === name);
      if (at < 0) return false;
      pods.splice(at, 1);
      return true;
    },
    async createPod(namespace, pod) {
      calls.push(`create pod ${namespace}/${pod.metadata.name}`);
      const key = `${namespace}/${pod.metadata.name}`;
      if (runs.has(key)) return 'exists';
      created.push(structuredClone(pod));
      runs.set(key, {
        run: { namespace, name: pod.metadata.name, nodeName: '', phase: 'Pending', terminating: false },
        log: '',
      });
      return 'created';
    },
    async getPod(namespace, name) {
      calls.push(`get pod ${namespace}/${name}`);
      const found = runs.get(`${namespace}/${name}`);
      return found ? structuredClone(found.run) : undefined;
    },
    async readPodLog(namespace, name, limitBytes) {
      calls.push(`log ${namespace}/${name} ${limitBytes}`);
      return runs.get(`${namespace}/${name}`)?.log;
    },
  };
  const factory: KubeApiFactory = (cluster) => {
    clusters.push(cluster);
    return api;
  };
  /** The kubelet confirms every terminating pod's end: they leave the API. */
  const finishTerminating = () => {
    for (let i = pods.length - 1; i >= 0; i -= 1) if (pods[i]?.terminating) pods.splice(i, 1);
  };
  return { factory, calls, clusters, nodes, pods, finishTerminating, runs, created };
}
