/** The parts of a Kubernetes Node this project reads. */
export interface KubeNode {
  name: string;
  labels: Record<string, string>;
  internalIps: string[];
  /** The `Ready` condition, if the kubelet has posted one. */
  ready?: { status: 'True' | 'False' | 'Unknown'; reason?: string; message?: string; since?: string };
  capacity: { cpu?: string; gpu?: string };
  providerId?: string;
  createdAt?: string;
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

interface NodeJson {
  metadata?: { name?: string; labels?: Record<string, string>; creationTimestamp?: string };
  spec?: { providerID?: string };
  status?: {
    addresses?: Array<{ type?: string; address?: string }>;
    conditions?: Array<{
      type?: string;
      status?: string;
      reason?: string;
      message?: string;
      lastTransitionTime?: string;
    }>;
    capacity?: Record<string, string>;
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
    providerId: json.spec?.providerID,
    createdAt: json.metadata?.creationTimestamp,
  };
}
