import { createHash } from 'node:crypto';
import type { KubeAnswer } from '../kube/eks-kube-api';
import type { SandboxEstate } from './estate';
import { advanceCreatedPods } from './gpu';
import { advanceOnPrem } from './on-prem';
import { scenarioFor } from './scenarios';
import type { EstateSeed } from './seed';
import type { SandboxKubernetes, SandboxNode, SandboxPod, SandboxPodDisruptionBudget, SandboxState } from './state';

/**
 * The sandbox cluster's control plane and kubelets, in sandbox time: the seeded workloads, the
 * controllers that keep them (DaemonSets, ReplicaSets, pod garbage collection), the kubelets that
 * confirm a pod has stopped, PodDisruptionBudgets and the Eviction API's decision. The API calls
 * that reach them are lib/sandbox/kubernetes.ts.
 */

export const HYBRID_LABEL = 'eks.amazonaws.com/compute-type';
/** The characters of a generated name's suffix (k8s.io/apimachinery/pkg/util/rand). */
const NAME_ALPHABET = 'bcdfghjklmnpqrstvwxz2456789';

export const podKey = (cluster: string, namespace: string, name: string) => `${cluster}/${namespace}/${name}`;
const later = (now: Date, seconds: number) => new Date(now.getTime() + seconds * 1000).toISOString();
const reached = (iso: string | undefined, now: Date) => iso !== undefined && Date.parse(iso) <= now.getTime();
const digest = (text: string) => createHash('sha256').update(text).digest('hex');

/** A generated pod name (`<owner>-<5 chars>`) and uid from 64 hex characters. */
function identity(owner: string, hex: string): { name: string; uid: string } {
  const suffix = Array.from({ length: 5 }, (_, i) => NAME_ALPHABET[parseInt(hex.slice(2 * i, 2 * i + 2), 16) % 27]);
  const u = hex.slice(10, 42);
  return {
    name: `${owner}-${suffix.join('')}`,
    uid: `${u.slice(0, 8)}-${u.slice(8, 12)}-${u.slice(12, 16)}-${u.slice(16, 20)}-${u.slice(20, 32)}`,
  };
}

export const emptyKubernetes = (): SandboxKubernetes => ({
  pods: {},
  replicaSets: [],
  daemonSets: [],
  podDisruptionBudgets: [],
  cloudNodes: {},
});

/** What settling the cluster needs besides its own state. */
interface World {
  nodes: Record<string, SandboxNode>;
  now: Date;
  /** 64 fresh hex characters for a new pod's name and uid. */
  fresh: () => string;
  /** The Node name a seed place means: a server's name, else the place itself. */
  nodeOf: (place: string) => string;
}

/** The workloads a seed starts with, on the Nodes `initialState` made. */
export function initialKubernetes(seed: EstateSeed, nodes: Record<string, SandboxNode>, now: Date): SandboxKubernetes {
  const k = emptyKubernetes();
  let counter = 0;
  const world: World = {
    nodes,
    now,
    fresh: () => digest(`${seed.account}:pod:${(counter += 1)}`),
    nodeOf: (place) => seed.fleet.find((f) => f.name === place)?.instanceId ?? place,
  };
  for (const [cluster, spec] of Object.entries(seed.kubernetes)) {
    k.cloudNodes[cluster] = spec.cloudNode;
    // Where a seeded pod runs: bound to its Node if that exists, else Pending until it joins.
    const place = (at: string) => {
      const name = world.nodeOf(at);
      return name === spec.cloudNode || nodes[name]?.cluster === cluster
        ? { nodeName: name, phase: 'Running' as const, readyAt: now.toISOString() }
        : { nodeName: '', waitsFor: at, phase: 'Pending' as const };
    };
    for (const ds of spec.daemonSets) k.daemonSets.push({ cluster, ...ds });
    for (const rs of spec.replicaSets) {
      k.replicaSets.push({
        cluster,
        namespace: rs.namespace,
        name: rs.name,
        replicas: rs.pods.length,
        labels: rs.labels,
        gracePeriodSeconds: rs.terminationGracePeriodSeconds,
        readyAfterSeconds: rs.readyAfterSeconds,
        emptyDir: rs.emptyDir,
      });
      for (const at of rs.pods) {
        const { name, uid } = identity(rs.name, world.fresh());
        addPod(k, {
          cluster,
          namespace: rs.namespace,
          name,
          uid,
          controller: { kind: 'ReplicaSet', name: rs.name },
          mirror: false,
          emptyDir: rs.emptyDir,
          labels: rs.labels,
          gracePeriodSeconds: rs.terminationGracePeriodSeconds,
          ...place(at),
        });
      }
    }
    for (const p of spec.pods) {
      const { uid } = identity(p.name, world.fresh());
      addPod(k, {
        cluster,
        namespace: p.namespace,
        name: p.name,
        uid,
        mirror: p.mirror,
        emptyDir: p.emptyDir,
        labels: p.labels,
        gracePeriodSeconds: p.terminationGracePeriodSeconds,
        ...place(p.node),
      });
    }
    for (const b of spec.podDisruptionBudgets) k.podDisruptionBudgets.push({ cluster, ...b });
  }
  settle(k, world);
  return k;
}

function addPod(k: SandboxKubernetes, pod: SandboxPod): void {
  k.pods[podKey(pod.cluster, pod.namespace, pod.name)] = pod;
}

/** The estate's workloads (an estate saved before they existed has none). */
export function kubernetesOf(state: SandboxState): SandboxKubernetes {
  state.kubernetes ??= emptyKubernetes();
  return state.kubernetes;
}

/** Moves the on-prem servers, then the cluster's pods and controllers, to the sandbox clock's now. */
export function advanceKubernetes(estate: SandboxEstate): void {
  advanceOnPrem(estate);
  advanceCreatedPods(estate, kubernetesOf(estate.state));
  settle(kubernetesOf(estate.state), {
    nodes: estate.state.nodes,
    now: estate.clock.now(),
    fresh: () => estate.nextId('', 64),
    nodeOf: (place) =>
      estate.seed.fleet.find((f) => f.name === place)?.instanceId ??
      Object.values(estate.state.servers).find((s) => s.nodeName === place && s.instanceId)?.instanceId ??
      place,
  });
}

/** Whether the pod's kubelet runs (its Node is Ready), or it is on the cloud node, which always runs. */
function kubeletRuns(k: SandboxKubernetes, pod: SandboxPod, nodes: Record<string, SandboxNode>): boolean {
  if (pod.nodeName === k.cloudNodes[pod.cluster]) return true;
  return nodes[pod.nodeName]?.ready.status === 'True';
}

/**
 * What the cluster's controllers and kubelets do, in order:
 * 1. Pods bound to a Node that no longer exists are deleted (pod garbage collection, "orphan pods":
 *    https://kubernetes.io/docs/concepts/workloads/pods/pod-lifecycle/#pod-garbage-collection).
 * 2. A terminating pod goes once its grace period is over and its kubelet has stopped it; a kubelet
 *    that is down never confirms, so the pod stays Terminating
 *    (https://kubernetes.io/docs/concepts/workloads/pods/pod-lifecycle/#pod-termination).
 * 3. A Pending pod is scheduled once its Node is Ready and not cordoned.
 * 4. A ReplicaSet short of replicas (terminating pods do not count) creates one, here on the cloud
 *    node (https://kubernetes.io/docs/concepts/workloads/controllers/replicaset/).
 * 5. A DaemonSet puts a pod on every hybrid Node that has none, cordoned or not: it tolerates
 *    `node.kubernetes.io/unschedulable` and the not-ready taints, so a CNI runs before the Node is
 *    Ready (https://kubernetes.io/docs/concepts/workloads/controllers/daemonset/#taints-and-tolerations).
 */
function settle(k: SandboxKubernetes, world: World): void {
  const { nodes, now } = world;
  for (const [key, pod] of Object.entries(k.pods)) {
    const bound = pod.nodeName !== '' && pod.nodeName !== k.cloudNodes[pod.cluster];
    // An unscheduled or finished pod needs no kubelet to go; the cloud node's always runs.
    if (bound && nodes[pod.nodeName]?.cluster !== pod.cluster) delete k.pods[key];
    else if (reached(pod.deletionTimestamp, now) && (!bound || finished(pod) || kubeletRuns(k, pod, nodes))) {
      delete k.pods[key];
    }
  }
  for (const pod of Object.values(k.pods)) {
    if (pod.phase !== 'Pending' || !pod.waitsFor || pod.deletionTimestamp) continue;
    const node = nodes[world.nodeOf(pod.waitsFor)];
    if (!node || node.cluster !== pod.cluster || node.ready.status !== 'True' || node.unschedulable) continue;
    const rs = replicaSetOf(k, pod);
    pod.nodeName = node.name;
    pod.phase = 'Running';
    pod.readyAt = later(now, rs?.readyAfterSeconds ?? 0);
    delete pod.waitsFor;
  }
  for (const rs of k.replicaSets) {
    const active = Object.values(k.pods).filter(
      (p) => p.cluster === rs.cluster && replicaSetOf(k, p) === rs && !p.deletionTimestamp,
    );
    for (let i = active.length; i < rs.replicas; i += 1) {
      const { name, uid } = identity(rs.name, world.fresh());
      addPod(k, {
        cluster: rs.cluster,
        namespace: rs.namespace,
        name,
        uid,
        nodeName: k.cloudNodes[rs.cluster] ?? '',
        phase: 'Running',
        controller: { kind: 'ReplicaSet', name: rs.name },
        mirror: false,
        emptyDir: rs.emptyDir,
        labels: rs.labels,
        readyAt: later(now, rs.readyAfterSeconds),
        gracePeriodSeconds: rs.gracePeriodSeconds,
      });
    }
  }
  // Which Nodes each DaemonSet has a pod on, looked up once: a check per Node and DaemonSet
  // against every pod made each read O(Nodes x pods), seconds of a 100-server fleet's run.
  const daemonPods = new Set<string>();
  for (const p of Object.values(k.pods)) {
    if (p.controller?.kind === 'DaemonSet') daemonPods.add(`${p.nodeName}/${p.namespace}/${p.controller.name}`);
  }
  for (const ds of k.daemonSets) {
    for (const node of Object.values(nodes)) {
      if (node.cluster !== ds.cluster || node.labels[HYBRID_LABEL] !== 'hybrid') continue;
      if (daemonPods.has(`${node.name}/${ds.namespace}/${ds.name}`)) continue;
      const { name, uid } = identity(ds.name, world.fresh());
      addPod(k, {
        cluster: ds.cluster,
        namespace: ds.namespace,
        name,
        uid,
        nodeName: node.name,
        phase: 'Running',
        controller: { kind: 'DaemonSet', name: ds.name },
        mirror: false,
        emptyDir: false,
        labels: { 'app.kubernetes.io/name': ds.name },
        readyAt: now.toISOString(),
        gracePeriodSeconds: 30,
      });
    }
  }
}

function replicaSetOf(k: SandboxKubernetes, pod: SandboxPod) {
  if (pod.controller?.kind !== 'ReplicaSet') return undefined;
  const owner = pod.controller.name;
  return k.replicaSets.find((r) => r.cluster === pod.cluster && r.namespace === pod.namespace && r.name === owner);
}

/** Ready, not terminating, and its Node Ready: the node controller marks the pods of a NotReady Node not Ready. */
function healthy(k: SandboxKubernetes, pod: SandboxPod, nodes: Record<string, SandboxNode>, now: Date): boolean {
  return !pod.deletionTimestamp && pod.phase === 'Running' && reached(pod.readyAt, now) && kubeletRuns(k, pod, nodes);
}

const finished = (pod: SandboxPod) => pod.phase === 'Succeeded' || pod.phase === 'Failed';

/**
 * Whether a budget selects the pod: same namespace, every matchLabels pair; an empty selector
 * matches nothing (eviction.go, getPodDisruptionBudgets).
 */
const selects = (budget: SandboxPodDisruptionBudget, pod: SandboxPod) =>
  budget.cluster === pod.cluster &&
  budget.namespace === pod.namespace &&
  Object.keys(budget.selector).length > 0 &&
  Object.entries(budget.selector).every(([key, value]) => pod.labels[key] === value);

/**
 * A budget's status as the disruption controller computes it (kubernetes
 * pkg/controller/disruption/disruption.go; https://kubernetes.io/docs/tasks/run-application/configure-pdb/):
 * with `minAvailable`, desired healthy is that number, expected the matching pods; with
 * `maxUnavailable`, expected is the scale of the pods' controllers and desired healthy is expected
 * minus maxUnavailable. Healthy pods are Ready and not terminating. Disruptions allowed: healthy
 * minus desired, never below 0.
 */
export function budgetStatus(
  k: SandboxKubernetes,
  budget: SandboxPodDisruptionBudget,
  nodes: Record<string, SandboxNode>,
  now: Date,
): { desiredHealthy: number; currentHealthy: number; disruptionsAllowed: number } {
  const pods = Object.values(k.pods).filter((p) => selects(budget, p));
  let expected: number;
  let desiredHealthy: number;
  if (budget.maxUnavailable !== undefined) {
    const controllers = new Set(pods.map((p) => replicaSetOf(k, p)).filter((rs) => rs !== undefined));
    expected = [...controllers].reduce((sum, rs) => sum + rs.replicas, 0);
    desiredHealthy = Math.max(0, expected - budget.maxUnavailable);
  } else {
    expected = pods.length;
    desiredHealthy = budget.minAvailable ?? 0;
  }
  const currentHealthy = pods.filter((p) => healthy(k, p, nodes, now)).length;
  const disruptionsAllowed = expected <= 0 ? 0 : Math.max(0, currentHealthy - desiredHealthy);
  return { desiredHealthy, currentHealthy, disruptionsAllowed };
}

/**
 * Marks a pod for deletion: `deletionTimestamp` is now plus its grace period, or now for a pod no
 * kubelet runs (unscheduled) or that has finished (kubernetes pkg/registry/core/pod/strategy.go,
 * CheckGracefulDelete). Deleting a pod already terminating changes nothing.
 */
export function markDeleted(pod: SandboxPod, now: Date): void {
  if (pod.deletionTimestamp) return;
  const immediate = pod.nodeName === '' || finished(pod);
  pod.deletionTimestamp = later(now, immediate ? 0 : pod.gracePeriodSeconds);
}

export const statusBody = (status: number, message: string, causes: Array<{ reason: string; message: string }> = []) =>
  JSON.stringify({
    kind: 'Status',
    apiVersion: 'v1',
    metadata: {},
    status: status < 300 ? 'Success' : 'Failure',
    ...(message ? { message } : {}),
    ...(causes.length ? { details: { causes } } : {}),
    code: status,
  });

/**
 * The Eviction API on one pod, as the API server answers it (kubernetes
 * pkg/registry/core/pod/storage/eviction.go; https://kubernetes.io/docs/concepts/scheduling-eviction/api-eviction/):
 * a pod already terminating, Pending or finished is deleted without looking at budgets; more than
 * one budget is a 500; a pod that is not Ready is deleted when its budget has all the healthy pods
 * it needs; otherwise the budget must allow a disruption (429 with the budget's numbers if not).
 */
export function evict(estate: SandboxEstate, cluster: string, namespace: string, name: string): KubeAnswer {
  const k = kubernetesOf(estate.state);
  const now = estate.clock.now();
  const pod = k.pods[podKey(cluster, namespace, name)];
  if (!pod) return { status: 404, body: statusBody(404, `pods "${name}" not found`) };
  const success = (): KubeAnswer => {
    markDeleted(pod, now);
    return { status: 201, body: statusBody(201, '') };
  };
  if (pod.deletionTimestamp || pod.phase !== 'Running') return success();
  const budgets = k.podDisruptionBudgets.filter((b) => selects(b, pod));
  if (budgets.length > 1) {
    const message = 'This pod has more than one PodDisruptionBudget, which the eviction subresource does not support.';
    return { status: 500, body: statusBody(500, message) };
  }
  const [budget] = budgets;
  if (!budget) return success();
  // The scenario of the server the pod runs on (its Node is named for the server's instance).
  const server = estate.state.hosts?.[pod.nodeName]?.name ?? pod.nodeName;
  const blocking = estate.seed.scenarios[scenarioFor(estate, server)]?.blockingPdb === true;
  const effective: SandboxPodDisruptionBudget = blocking
    ? { ...budget, minAvailable: undefined, maxUnavailable: 0 }
    : budget;
  const status = budgetStatus(k, effective, estate.state.nodes, now);
  const ready = healthy(k, pod, estate.state.nodes, now);
  if (!ready && status.currentHealthy >= status.desiredHealthy && status.desiredHealthy > 0) return success();
  if (status.disruptionsAllowed > 0) return success();
  return {
    status: 429,
    body: statusBody(429, "Cannot evict pod as it would violate the pod's disruption budget.", [
      {
        reason: 'DisruptionBudget',
        message: `The disruption budget ${budget.name} needs ${status.desiredHealthy} healthy pods and has ${status.currentHealthy} currently`,
      },
    ]),
  };
}
