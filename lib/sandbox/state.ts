import type { SandboxFault } from './faults';
import { fleetHost } from './hosts';
import { initialKubernetes } from './workloads';
import type { EstateSeed, NetworkSeed } from './seed';

/**
 * The sandbox estate's state: the seed (sandbox/estate.yaml) plus everything the project's calls
 * created. One JSON document under $HYBRIDOPS_HOME/sandbox/.
 */

export interface Tag {
  Key: string;
  Value: string;
}

export interface SandboxParameter {
  name: string;
  type: 'String' | 'StringList' | 'SecureString';
  value: string;
  version: number;
  lastModified: string;
  tier: string;
  description?: string;
}

export interface SandboxActivation {
  id: string;
  code: string;
  iamRole: string;
  registrationLimit: number;
  registrationsCount: number;
  expirationDate: string;
  createdDate: string;
  defaultInstanceName?: string;
  description?: string;
  tags: Tag[];
}

export interface SandboxInstance {
  instanceId: string;
  activationId: string;
  name?: string;
  ipAddress: string;
  platformName: string;
  platformVersion: string;
  registrationDate: string;
  tags: Tag[];
  pingStatus?: 'Online' | 'ConnectionLost';
  /** When its agent last reached SSM, once it stopped (ConnectionLost). */
  lastPingAt?: string;
}

export interface SandboxNode {
  name: string;
  cluster: string;
  labels: Record<string, string>;
  taints: string[];
  internalIp: string;
  /** `Unknown`: the node lifecycle controller's verdict on a kubelet that stopped posting status. */
  ready: { status: 'True' | 'False' | 'Unknown'; reason: string; message: string; since?: string };
  capacity: { cpu: string; gpu?: string };
  /** `status.allocatable` (kubelet: capacity less the GPUs the device plugin reports unhealthy). */
  allocatable: { cpu: string; gpu?: string };
  createdAt: string;
  /** `spec.unschedulable`: cordoned. */
  unschedulable?: boolean;
  /** `status.nodeInfo.kubeletVersion`. */
  kubeletVersion?: string;
}

/**
 * A pod in the sandbox's cluster. lib/sandbox/kubernetes.ts moves pods with the clock: an evicted
 * or deleted pod goes when its grace period has passed and its kubelet confirms, a ReplicaSet
 * replaces it, a DaemonSet keeps one on every hybrid Node.
 */
export interface SandboxPod {
  cluster: string;
  namespace: string;
  name: string;
  uid: string;
  /** `spec.nodeName`: the Node it is bound to; '' while Pending. */
  nodeName: string;
  /** A Pending pod's place: the server (or Node) name it is scheduled on once that Node is Ready. */
  waitsFor?: string;
  phase: 'Pending' | 'Running' | 'Succeeded' | 'Failed';
  /** The owner reference with `controller: true`. */
  controller?: { kind: 'ReplicaSet' | 'DaemonSet'; name: string };
  /** A static pod's mirror (annotation `kubernetes.io/config.mirror`). */
  mirror: boolean;
  emptyDir: boolean;
  labels: Record<string, string>;
  /** When its readiness probe first passes; it counts as Ready from then on, while its Node is Ready. */
  readyAt?: string;
  /** `metadata.deletionTimestamp`: set on eviction or delete, to now plus the grace period. */
  deletionTimestamp?: string;
  /** `spec.terminationGracePeriodSeconds`. */
  gracePeriodSeconds: number;
  /** A pod this project created through the API (the GPU smoke test's): its spec and how its run went. */
  run?: SandboxPodRun;
}

/** What a created pod asks for and what became of it (lib/sandbox/gpu.ts). */
export interface SandboxPodRun {
  nodeSelector: Record<string, string>;
  tolerations: Array<{ key: string; operator: string; value?: string; effect?: string }>;
  /** `limits["nvidia.com/gpu"]`. */
  gpus: number;
  command: string[];
  activeDeadlineSeconds?: number;
  /** Why the scheduler cannot place it yet (the PodScheduled condition's message). */
  unschedulable?: string;
  startedAt?: string;
  /** When its container exits. */
  endsAt?: string;
  exitCode?: number;
  /** `status.reason` of a pod the kubelet failed (DeadlineExceeded). */
  reason?: string;
  log: string;
}

/** A ReplicaSet: keeps `replicas` pods that are not terminating, replacing one on the cloud node. */
export interface SandboxReplicaSet {
  cluster: string;
  namespace: string;
  name: string;
  replicas: number;
  labels: Record<string, string>;
  gracePeriodSeconds: number;
  /** From a pod's start to its readiness probe passing. */
  readyAfterSeconds: number;
  emptyDir: boolean;
}

/** A PodDisruptionBudget (policy/v1), integer `minAvailable` or `maxUnavailable`. */
export interface SandboxPodDisruptionBudget {
  cluster: string;
  namespace: string;
  name: string;
  /** `spec.selector.matchLabels`; an empty selector matches nothing. */
  selector: Record<string, string>;
  minAvailable?: number;
  maxUnavailable?: number;
}

/** The workloads on the sandbox's clusters (the seed's `kubernetes` section, then what happened). */
export interface SandboxKubernetes {
  /** By `<cluster>/<namespace>/<name>`. */
  pods: Record<string, SandboxPod>;
  replicaSets: SandboxReplicaSet[];
  daemonSets: Array<{ cluster: string; namespace: string; name: string }>;
  podDisruptionBudgets: SandboxPodDisruptionBudget[];
  /** Per cluster, the stand-in for its EC2 nodes: replacements run there; it is never a hybrid Node. */
  cloudNodes: Record<string, string>;
}

/** A simulated server that was handed a NodeConfig and is "running nodeadm" with it. */
export interface SimulatedServer {
  activationId: string;
  nodeName: string;
  cluster: string;
  ip: string;
  platform: string;
  platformVersion: string;
  vcpus: number;
  gpus: number;
  labels: Record<string, string>;
  taints: string[];
  scenario: string;
  /** When the NodeConfig was fetched; the scenario's times count from here. */
  handedOutAt: string;
  /** Seconds added to each of the scenario's join timings: its own pace (absent: 0). */
  timelineOffsetSeconds?: number;
  /** False when SSM refused its registration (wrong code, expired or used activation). */
  canRegister: boolean;
  instanceId?: string;
  /**
   * When its kubelet created the Node. A running kubelet registers its Node once and does not
   * create it again after someone deletes it (kubernetes/kubernetes#71398, #115761).
   */
  nodeCreatedAt?: string;
  /** What the handout's instructions installed and where they left the NodeConfig (see lib/sandbox/hosts.ts). */
  install?: HostInstall;
  /** When its Node first became Ready (the join's timeline ends there). */
  readyAt?: string;
  /** When the NVIDIA device plugin registered its GPUs on the Node. */
  devicePluginAt?: string;
}

/** What `nodeadm install` and `nodeadm init` left on a host. */
export interface HostInstall {
  /** The Kubernetes minor version installed (`1.33`). */
  kubernetesVersion: string;
  /** The absolute path of the NodeConfig `nodeadm init` read; undefined: a path relative to a shell nobody can name. */
  nodeConfigPath?: string;
}

/**
 * The machine behind a managed instance, as nodeadm and the SSM agent on it see it (see
 * lib/sandbox/hosts.ts). Keyed by its managed-instance id.
 */
export interface SandboxHost {
  instanceId: string;
  /** The server's name (the instance's `hybridops:node-name`). */
  name: string;
  cluster: string;
  /** nodeadm's tracker (/opt/nodeadm/tracker) exists: its components are installed. */
  nodeadm: boolean;
  /** The kubelet nodeadm installed (undefined: none); `version` as it posts it (`v1.31.11-eks-...`). */
  kubelet?: { version: string; running: boolean; since: string };
  nodeConfigPath?: string;
  /** When the server went down (agent and kubelet stopped): a scenario's `offlineHosts`. */
  downSince?: string;
  /** Changes to its Node that are due later (the control plane's view of what the host did). */
  nodeChanges: NodeChange[];
}

/** A change to a host's Node, due at `at`. */
export interface NodeChange {
  at: string;
  ready?: SandboxNode['ready'];
  kubeletVersion?: string;
}

/** One SendCommand, with one invocation per instance (lib/sandbox/services/ssm-run-command.ts). */
export interface SandboxCommand {
  commandId: string;
  documentName: string;
  comment?: string;
  requestedAt: string;
  /** SendCommand's TimeoutSeconds (the delivery timeout) and the document's executionTimeout. */
  timeoutSeconds: number;
  executionTimeoutSeconds: number;
  /** requestedAt + both timeouts: still undelivered then, an invocation is Delivery Timed Out. */
  expiresAt: string;
  parameters: Record<string, string[]>;
  instanceIds: string[];
  /** The scenario in force when it was sent: how its hosts behave. */
  scenario: string;
  /** Sent order, for newest-first listings of commands sent in the same millisecond. */
  sequence: number;
  invocations: Record<string, SandboxInvocation>;
}

export interface SandboxInvocation {
  instanceId: string;
  status: 'Pending' | 'InProgress' | 'Success' | 'Failed' | 'TimedOut';
  statusDetails: string;
  /** -1 until the script has exited (the SSM API reference, GetCommandInvocation ResponseCode). */
  responseCode: number;
  startedAt?: string;
  endedAt?: string;
  /** When the script will have exited, once the host runs it. */
  endsAt?: string;
  stdout: string;
  stderr: string;
  /** The nodeadm command the host runs for it, once picked up. */
  run?: HostRun;
}

/** A nodeadm command a host runs (lib/sandbox/hosts.ts decides how it goes when it starts). */
export interface HostRun {
  subcommand: 'uninstall' | 'upgrade';
  /** Started in the background: the script exits at once, nodeadm goes on. */
  detached: boolean;
  startedAt: string;
  endsAt: string;
  exitCode: number;
  logsTo: 'stdout' | 'stderr';
  /** nodeadm's log lines, each with the seconds after `startedAt` it is written at. */
  log: Array<{ at: number; line: string }>;
  /** nodeadm uninstall stops the kubelet first: the Node stops getting status from then on. */
  stopsKubelet: boolean;
  /** What the host is left as when nodeadm exits. */
  outcome: 'unchanged' | 'uninstalled' | 'ssm-uninstall-failed' | { upgradedTo: string; readyAfterSeconds: number };
  /** Its outcome applied (or it was killed first). */
  settled: boolean;
}

export interface SandboxState {
  version: 1;
  seed: EstateSeed;
  /** The seed file and its hash when seeded; a changed file reseeds the state. */
  seedSource?: string;
  seedHash?: string;
  scenario: string;
  /** Servers (by name) that follow a scenario of their own (`--scenario <scenario>:<server>`). */
  serverScenarios?: Record<string, string>;
  /** The sandbox clock runs with real time plus this offset; Wait states add to it. */
  clockOffsetMs: number;
  counter: number;
  parameters: Record<string, SandboxParameter>;
  activations: Record<string, SandboxActivation>;
  instances: Record<string, SandboxInstance>;
  nodes: Record<string, SandboxNode>;
  kubernetes: SandboxKubernetes;
  servers: Record<string, SimulatedServer>;
  /** The machines behind the managed instances, by instance id. */
  hosts: Record<string, SandboxHost>;
  /** Run Command commands, by command id. */
  commands: Record<string, SandboxCommand>;
  /** When the scenario now in force was first seen (its offline hosts are those that had joined by then). */
  offlineFrom?: { scenario: string; at: string };
  faults: SandboxFault[];
  published: number;
  /** Resolver, EFS and security-group state: the seed's, then changed by the reconciler. */
  network: NetworkSeed;
  /** S3 objects by bucket and key (the nightly sweep's store). */
  objects: Record<string, Record<string, string>>;
  /** Step Functions executions started on the sandbox, by execution ARN (lib/sandbox/services/sfn.ts). */
  executions?: Record<string, import('./services/sfn').SandboxExecution>;
}

const HOUR = 3600_000;
export const sandboxClusterArn = (seed: EstateSeed, cluster: string) =>
  `arn:aws:eks:${seed.region}:${seed.account}:cluster/${cluster}`;

/** The state a seed starts as, at `now`: its fleet joined, its activations issued. */
export function initialState(seed: EstateSeed, scenario = 'joins', now = new Date()): SandboxState {
  const at = (hoursFromNow: number) => new Date(now.getTime() + hoursFromNow * HOUR).toISOString();
  const ourTags = (cluster: string, name: string): Tag[] => [
    { Key: 'EKSClusterARN', Value: sandboxClusterArn(seed, cluster) },
    { Key: 'hybridops:request-id', Value: `${name}-seeded` },
    { Key: 'hybridops:node-name', Value: name },
  ];
  const instances: SandboxState['instances'] = {};
  const nodes: SandboxState['nodes'] = {};
  const activations: SandboxState['activations'] = {};
  const hosts: SandboxState['hosts'] = {};
  for (const f of seed.fleet) {
    const joined = at(-24 * f.joinedDaysAgo);
    const host = fleetHost(seed, f, joined);
    hosts[f.instanceId] = host;
    instances[f.instanceId] = {
      instanceId: f.instanceId,
      activationId: `seeded-${f.name}`,
      name: f.name,
      ipAddress: f.ip,
      platformName: f.platform,
      platformVersion: f.platformVersion,
      registrationDate: joined,
      tags: f.ours ? ourTags(f.cluster, f.name) : [],
      pingStatus: f.pingStatus,
      // A lost agent last reached SSM when its server went quiet (when its Node went NotReady, if it did).
      ...(f.pingStatus === 'ConnectionLost' ? { lastPingAt: at(-(f.notReadyForHours ?? 0)) } : {}),
    };
    if (!f.node) continue;
    nodes[f.instanceId] = {
      name: f.instanceId,
      cluster: f.cluster,
      labels: {
        'eks.amazonaws.com/compute-type': 'hybrid',
        'eks.amazonaws.com/hybrid-credential-provider': 'ssm',
        'kubernetes.io/hostname': f.instanceId,
        'kubernetes.io/os': 'linux',
      },
      taints: [],
      internalIp: f.ip,
      ready:
        f.notReadyForHours === undefined
          ? { status: 'True', reason: 'KubeletReady', message: 'kubelet is posting ready status', since: joined }
          : {
              status: 'False',
              reason: 'NodeStatusUnknown',
              message: 'Kubelet stopped posting node status.',
              since: at(-f.notReadyForHours),
            },
      capacity: { cpu: String(f.vcpus), ...(f.gpus ? { gpu: String(f.gpus) } : {}) },
      allocatable: { cpu: String(f.vcpus), ...(f.gpus ? { gpu: String(f.gpus) } : {}) },
      createdAt: joined,
      kubeletVersion: host.kubelet?.version,
    };
  }
  for (const a of seed.activations) {
    activations[a.id] = {
      id: a.id,
      code: `seeded-${a.id}`,
      iamRole: seed.iamRoles[0] ?? 'AmazonEKSHybridNodesRole',
      registrationLimit: a.registrationLimit,
      registrationsCount: a.registrationsCount,
      expirationDate: at(a.expiresInHours),
      createdDate: at(Math.min(a.expiresInHours, 0) - 24),
      defaultInstanceName: a.defaultInstanceName,
      tags: ourTags(a.cluster, a.defaultInstanceName),
    };
  }
  return {
    version: 1,
    seed,
    scenario,
    clockOffsetMs: 0,
    counter: 0,
    parameters: {},
    activations,
    instances,
    nodes,
    kubernetes: initialKubernetes(seed, nodes, now),
    servers: {},
    hosts,
    commands: {},
    faults: [],
    published: 0,
    network: structuredClone(seed.network),
    objects: {},
  };
}
