import type { SandboxFault } from './faults';
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
}

export interface SandboxNode {
  name: string;
  cluster: string;
  labels: Record<string, string>;
  taints: string[];
  internalIp: string;
  ready: { status: 'True' | 'False'; reason: string; message: string; since?: string };
  capacity: { cpu: string; gpu?: string };
  createdAt: string;
  /** `spec.unschedulable`: cordoned. */
  unschedulable?: boolean;
  /** `status.nodeInfo.kubeletVersion`. */
  kubeletVersion?: string;
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
  /** False when SSM refused its registration (wrong code, expired or used activation). */
  canRegister: boolean;
  instanceId?: string;
}

export interface SandboxState {
  version: 1;
  seed: EstateSeed;
  /** The seed file and its hash when seeded; a changed file reseeds the state. */
  seedSource?: string;
  seedHash?: string;
  scenario: string;
  /** The sandbox clock runs with real time plus this offset; Wait states add to it. */
  clockOffsetMs: number;
  counter: number;
  parameters: Record<string, SandboxParameter>;
  activations: Record<string, SandboxActivation>;
  instances: Record<string, SandboxInstance>;
  nodes: Record<string, SandboxNode>;
  servers: Record<string, SimulatedServer>;
  faults: SandboxFault[];
  published: number;
  /** Resolver, EFS and security-group state: the seed's, then changed by the reconciler. */
  network: NetworkSeed;
  /** S3 objects by bucket and key (the nightly sweep's store). */
  objects: Record<string, Record<string, string>>;
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
  for (const f of seed.fleet) {
    const joined = at(-24 * f.joinedDaysAgo);
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
      createdAt: joined,
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
    servers: {},
    faults: [],
    published: 0,
    network: structuredClone(seed.network),
    objects: {},
  };
}
