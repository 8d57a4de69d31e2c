/** The parts of a Kubernetes Node this project reads. */
export interface KubeNode {
  name: string;
  labels: Record<string, string>;
  internalIps: string[];
  /** The `Ready` condition, if the kubelet has posted one. */
  ready?: { status: 'True' | 'False' | 'Unknown'; reason?: string; message?: string; since?: string };
  /** `status.capacity`: `gpu` is `nvidia.com/gpu`, which appears once the NVIDIA device plugin registers the GPUs... */
  capacity: { cpu?: string; gpu?: string };
  /** ...and `status.allocatable`: what pods may request; a GPU the plugin reports unhealthy leaves it, not capacity. */
  allocatable: { cpu?: string; gpu?: string };
  providerId?: string;
  createdAt?: string;
  /** `spec.unschedulable`: the Node is cordoned. */
  unschedulable: boolean;
  /** `status.nodeInfo.kubeletVersion`, e.g. `v1.31.4-eks-1234567`, once the kubelet has posted it. */
  kubeletVersion?: string;
}

/** Reads Nodes of one cluster: the EKS API in AWS, the sandbox estate locally. */
export interface NodeReader {
  /** The Node of that name, or undefined when there is none (404). */
  getNode(name: string): Promise<KubeNode | undefined>;
  /** Every hybrid Node (`eks.amazonaws.com/compute-type=hybrid`), page by page. */
  listHybridNodes(pageSize?: number): AsyncIterable<KubeNode[]>;
}

/** The label nodeadm puts on every hybrid node. */
export const HYBRID_NODE_SELECTOR = 'eks.amazonaws.com/compute-type=hybrid';

/** What a NodeReader needs to know about the cluster it reads. */
export interface ClusterAccess {
  name: string;
  region: string;
  endpoint: string;
  certificateAuthority: string;
}

export type NodeReaderFactory = (cluster: ClusterAccess) => NodeReader;

/** A pod as a drain sees it: where it runs, who owns it, whether it may be evicted. */
export interface KubePod {
  namespace: string;
  name: string;
  uid: string;
  nodeName: string;
  phase: 'Pending' | 'Running' | 'Succeeded' | 'Failed' | 'Unknown';
  /** The owner reference with `controller: true` (ReplicaSet, StatefulSet, DaemonSet, Job, ...). */
  controller?: { kind: string; name: string };
  /** A static pod's mirror (annotation `kubernetes.io/config.mirror`): the kubelet owns it, no API call removes it. */
  mirror: boolean;
  /** `metadata.deletionTimestamp` is set: the pod is already going. */
  terminating: boolean;
  /** Mounts an `emptyDir` volume, whose data goes with the pod. */
  emptyDir: boolean;
}

/** The Eviction API's answer (policy/v1 `pods/eviction`). */
export type EvictionAnswer =
  /** 200/201: the pod is being deleted, within its grace period. */
  | { outcome: 'evicting' }
  /** 404: the pod is not there any more. */
  | { outcome: 'gone' }
  /** 429 (a PodDisruptionBudget allows no disruption now) or 500 (several budgets match): ask again later. */
  | { outcome: 'refused'; reason: string };

/** What a cordon, a drain and a removal change on a cluster. */
export interface NodeWriter {
  /** Sets `spec.unschedulable` (cordon: true, uncordon: false); the Node after, or undefined when there is none (404). */
  setUnschedulable(name: string, unschedulable: boolean): Promise<KubeNode | undefined>;
  /** Deletes the Node object; false when there was none (404). */
  deleteNode(name: string): Promise<boolean>;
  /** Every pod bound to the Node (`fieldSelector=spec.nodeName=<name>`), page by page. */
  listPodsOnNode(name: string, pageSize?: number): AsyncIterable<KubePod[]>;
  /** Asks the Eviction API to evict the pod, honouring its PodDisruptionBudgets. */
  evictPod(namespace: string, name: string): Promise<EvictionAnswer>;
  /** Deletes the pod past any PodDisruptionBudget (a forced drain after its timeout); false when it was gone. */
  deletePod(namespace: string, name: string): Promise<boolean>;
}

/**
 * A pod this project creates (the GPU smoke test's): the v1 Pod fields it sets, as JSON
 * (https://kubernetes.io/docs/reference/kubernetes-api/workload-resources/pod-v1/).
 */
export interface PodManifest {
  apiVersion: 'v1';
  kind: 'Pod';
  metadata: { name: string; namespace: string; labels?: Record<string, string> };
  spec: {
    restartPolicy: 'Never' | 'OnFailure' | 'Always';
    activeDeadlineSeconds?: number;
    nodeSelector?: Record<string, string>;
    tolerations?: Array<{ key: string; operator: 'Exists' | 'Equal'; value?: string; effect?: string }>;
    containers: Array<{
      name: string;
      image: string;
      command?: string[];
      resources?: { limits?: Record<string, string> };
    }>;
  };
}

/** What a pod's status says about its run: where, how far, and how its container ended. */
export interface PodRun {
  namespace: string;
  name: string;
  nodeName: string;
  phase: KubePod['phase'];
  /** `status.reason` (`DeadlineExceeded` when activeDeadlineSeconds ran out) and `status.message`. */
  reason?: string;
  message?: string;
  /** The `PodScheduled` condition's message while the scheduler cannot place it. */
  unschedulable?: string;
  /** The first container's `state.terminated`, once it has ended. */
  terminated?: { exitCode: number; reason?: string; message?: string };
  terminating: boolean;
}

/** Running a pod of one's own: create it, watch it, read its log, delete it. */
export interface PodRunner {
  /** Creates the pod; `exists` when one of that name is there already (409 AlreadyExists). */
  createPod(namespace: string, pod: PodManifest): Promise<'created' | 'exists'>;
  /** The pod's run, or undefined when there is none (404). */
  getPod(namespace: string, name: string): Promise<PodRun | undefined>;
  /** The log of its container from the start, at most `limitBytes`; undefined when the pod is gone (404). */
  readPodLog(namespace: string, name: string, limitBytes: number): Promise<string | undefined>;
  /** Deletes the pod; false when it was gone (404). */
  deletePod(namespace: string, name: string): Promise<boolean>;
}

/**
 * One cluster's Kubernetes API as the workflows use it. What a function may actually do is
 * what its access entry's group is bound to (deploy/kubernetes/): readers only read.
 */
export interface KubeApi extends NodeReader, NodeWriter, PodRunner {}

export type KubeApiFactory = (cluster: ClusterAccess) => KubeApi;

interface NodeJson {
  metadata?: { name?: string; labels?: Record<string, string>; creationTimestamp?: string };
  spec?: { providerID?: string; unschedulable?: boolean };
  status?: {
    nodeInfo?: { kubeletVersion?: string };
    addresses?: Array<{ type?: string; address?: string }>;
    conditions?: Array<{
      type?: string;
      status?: string;
      reason?: string;
      message?: string;
      lastTransitionTime?: string;
    }>;
    capacity?: Record<string, string>;
    allocatable?: Record<string, string>;
  };
}

/** Maps a Node object as the Kubernetes API returns it (v1 Node JSON). */
export function toKubeNode(json: NodeJson): KubeNode {
  const ready = json.status?.conditions?.find((c) => c.type === 'Ready');
  const status = ready?.status === 'True' || ready?.status === 'False' ? ready.status : 'Unknown';
  return {
    name: json.metadata?.name ?? '',
    labels: json.metadata?.labels ?? {},
    internalIps: (json.status?.addresses ?? [])
      .filter((a) => a.type === 'InternalIP' && a.address)
      .map((a) => a.address as string),
    ready: ready
      ? { status, reason: ready.reason, message: ready.message, since: ready.lastTransitionTime }
      : undefined,
    capacity: { cpu: json.status?.capacity?.cpu, gpu: json.status?.capacity?.['nvidia.com/gpu'] },
    allocatable: { cpu: json.status?.allocatable?.cpu, gpu: json.status?.allocatable?.['nvidia.com/gpu'] },
    providerId: json.spec?.providerID,
    createdAt: json.metadata?.creationTimestamp,
    unschedulable: json.spec?.unschedulable === true,
    kubeletVersion: json.status?.nodeInfo?.kubeletVersion,
  };
}

interface PodJson {
  metadata?: {
    namespace?: string;
    name?: string;
    uid?: string;
    annotations?: Record<string, string>;
    deletionTimestamp?: string;
    ownerReferences?: Array<{ kind?: string; name?: string; controller?: boolean }>;
  };
  spec?: { nodeName?: string; volumes?: Array<{ emptyDir?: object }> };
  status?: { phase?: string };
}

const POD_PHASES: ReadonlyArray<KubePod['phase']> = ['Pending', 'Running', 'Succeeded', 'Failed', 'Unknown'];

/**
 * The annotation the kubelet puts on the mirror of a static pod (`corev1.MirrorPodAnnotationKey`);
 * `kubectl drain` skips such pods (kubectl pkg/drain/filters.go, mirrorPodFilter).
 */
export const MIRROR_POD_ANNOTATION = 'kubernetes.io/config.mirror';

/** Maps a Pod object as the Kubernetes API returns it (v1 Pod JSON). */
export function toKubePod(json: PodJson): KubePod {
  const owner = json.metadata?.ownerReferences?.find((o) => o.controller === true);
  const phase = POD_PHASES.find((p) => p === json.status?.phase) ?? 'Unknown';
  return {
    namespace: json.metadata?.namespace ?? '',
    name: json.metadata?.name ?? '',
    uid: json.metadata?.uid ?? '',
    nodeName: json.spec?.nodeName ?? '',
    phase,
    ...(owner ? { controller: { kind: owner.kind ?? '', name: owner.name ?? '' } } : {}),
    mirror: json.metadata?.annotations?.[MIRROR_POD_ANNOTATION] !== undefined,
    terminating: Boolean(json.metadata?.deletionTimestamp),
    emptyDir: (json.spec?.volumes ?? []).some((v) => v.emptyDir !== undefined),
  };
}

interface PodStatusJson {
  metadata?: { namespace?: string; name?: string; deletionTimestamp?: string };
  spec?: { nodeName?: string };
  status?: {
    phase?: string;
    reason?: string;
    message?: string;
    conditions?: Array<{ type?: string; status?: string; reason?: string; message?: string }>;
    containerStatuses?: Array<{
      state?: { terminated?: { exitCode?: number; reason?: string; message?: string } };
    }>;
  };
}

/** Maps a Pod object as the Kubernetes API returns it to its run (v1 Pod JSON, `status`). */
export function toPodRun(json: PodStatusJson): PodRun {
  const scheduled = json.status?.conditions?.find((c) => c.type === 'PodScheduled');
  const terminated = json.status?.containerStatuses?.[0]?.state?.terminated;
  return {
    namespace: json.metadata?.namespace ?? '',
    name: json.metadata?.name ?? '',
    nodeName: json.spec?.nodeName ?? '',
    phase: POD_PHASES.find((p) => p === json.status?.phase) ?? 'Unknown',
    ...(json.status?.reason ? { reason: json.status.reason } : {}),
    ...(json.status?.message ? { message: json.status.message } : {}),
    ...(scheduled?.status === 'False'
      ? { unschedulable: scheduled.message ?? scheduled.reason ?? 'Unschedulable' }
      : {}),
    ...(terminated
      ? {
          terminated: {
            exitCode: terminated.exitCode ?? -1,
            ...(terminated.reason ? { reason: terminated.reason } : {}),
            ...(terminated.message ? { message: terminated.message } : {}),
          },
        }
      : {}),
    terminating: Boolean(json.metadata?.deletionTimestamp),
  };
}
