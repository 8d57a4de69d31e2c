import { parse } from 'yaml';
import type { KubeNode, NodeReaderFactory } from '../kube/types';
import type { SandboxEstate } from './estate';
import type { SandboxNode, SimulatedServer } from './state';

/**
 * The on-prem side of the sandbox. A server that is handed a NodeConfig "runs nodeadm init" with
 * it: it registers with the activation named in the NodeConfig (if the code matches, the
 * activation has not expired and has registrations left), then its kubelet creates a Node with
 * the labels and taints from the NodeConfig's flags, NotReady until a CNI runs. How many polls
 * each step takes comes from the estate's scenario.
 */

const NO_CNI_MESSAGE =
  'container runtime network not ready: NetworkReady=false reason:NetworkPluginNotReady message:Network plugin returns error: cni plugin not initialized';

function flagValue(flags: string[], name: string): string | undefined {
  return flags.find((f) => f.startsWith(`${name}=`))?.slice(name.length + 1);
}

/** Called when a NodeConfig is read with decryption: the team fetched it for its server. */
export function handOutNodeConfig(estate: SandboxEstate, stored: string): void {
  const handout = JSON.parse(stored) as { nodeConfig: string };
  const config = parse(handout.nodeConfig) as {
    spec: {
      cluster: { name: string };
      hybrid: { ssm: { activationId: string; activationCode: string } };
      kubelet: { flags: string[] };
    };
  };
  const { activationId, activationCode } = config.spec.hybrid.ssm;
  if (estate.state.servers[activationId]) return; // fetched again: the server already has it
  const activation = estate.state.activations[activationId];
  const nodeName = activation?.defaultInstanceName ?? 'unknown';
  const seed = estate.seed.onPrem.servers.find((s) => s.name === nodeName);
  const tagIp = activation?.tags.find((t) => t.Key === 'hybridops:node-ip')?.Value;
  const behaviour = estate.seed.scenarios[estate.state.scenario];
  const labels = Object.fromEntries(
    (flagValue(config.spec.kubelet.flags, '--node-labels') ?? '')
      .split(',')
      .filter(Boolean)
      .map((pair) => pair.split('=') as [string, string]),
  );
  const server: SimulatedServer = {
    activationId,
    nodeName,
    cluster: config.spec.cluster.name,
    ip: seed?.ip ?? tagIp ?? '192.168.0.10',
    platform: seed?.platform ?? 'Ubuntu',
    platformVersion: seed?.platformVersion ?? '22.04',
    vcpus: seed?.vcpus ?? 32,
    gpus: seed?.gpus ?? 0,
    labels,
    taints: (flagValue(config.spec.kubelet.flags, '--register-with-taints') ?? '').split(',').filter(Boolean),
    scenario: estate.state.scenario,
    // A wrong code never registers: SSM rejects it, as it would the real agent.
    pollsUntilRegistered: activation?.code === activationCode ? (behaviour?.registersAfterPolls ?? null) : null,
    readsUntilNode: behaviour ? behaviour.nodeAppearsAfterReads : 1,
    readsUntilReady: behaviour?.readyAfterReads ?? null,
  };
  estate.state.servers[activationId] = server;
}

/** Called on each DescribeInstanceInformation for an activation: the server may register now. */
export function pollRegistration(estate: SandboxEstate, activationId: string): void {
  const server = estate.state.servers[activationId];
  if (!server || server.instanceId || server.pollsUntilRegistered === null) return;
  server.pollsUntilRegistered = Math.max(0, server.pollsUntilRegistered - 1);
  if (server.pollsUntilRegistered > 0) return;
  const activation = estate.state.activations[activationId];
  const now = estate.clock.now();
  if (
    !activation ||
    new Date(activation.expirationDate) <= now ||
    activation.registrationsCount >= activation.registrationLimit
  ) {
    server.pollsUntilRegistered = null; // the agent's registration is refused; it stops trying
    return;
  }
  activation.registrationsCount += 1;
  const instanceId = estate.nextId('mi-');
  server.instanceId = instanceId;
  estate.state.instances[instanceId] = {
    instanceId,
    activationId,
    name: server.nodeName,
    ipAddress: server.ip,
    platformName: server.platform,
    platformVersion: server.platformVersion,
    registrationDate: now.toISOString(),
    tags: [...activation.tags],
  };
}

/** Called on each read of a Node: the kubelet may have created it, a CNI may have made it Ready. */
function advanceNode(estate: SandboxEstate, server: SimulatedServer): void {
  const name = server.instanceId;
  if (!name) return;
  const existing = estate.state.nodes[name];
  if (!existing) {
    if (server.readsUntilNode === null) return;
    server.readsUntilNode = Math.max(0, server.readsUntilNode - 1);
    if (server.readsUntilNode > 0) return;
    const node: SandboxNode = {
      name,
      cluster: server.cluster,
      labels: {
        ...server.labels,
        'eks.amazonaws.com/compute-type': 'hybrid',
        'eks.amazonaws.com/hybrid-credential-provider': 'ssm',
        'kubernetes.io/hostname': name,
        'kubernetes.io/os': 'linux',
      },
      taints: server.taints,
      internalIp: server.ip,
      ready: { status: 'False', reason: 'KubeletNotReady', message: NO_CNI_MESSAGE },
      capacity: { cpu: String(server.vcpus), ...(server.gpus ? { gpu: String(server.gpus) } : {}) },
      createdAt: estate.clock.now().toISOString(),
    };
    estate.state.nodes[name] = node;
    return;
  }
  if (existing.ready.status === 'True' || server.readsUntilReady === null) return;
  server.readsUntilReady = Math.max(0, server.readsUntilReady - 1);
  if (server.readsUntilReady === 0) {
    existing.ready = { status: 'True', reason: 'KubeletReady', message: 'kubelet is posting ready status' };
  }
}

export function toKubeNodeFromSandbox(node: SandboxNode, region: string): KubeNode {
  return {
    name: node.name,
    labels: node.labels,
    internalIps: [node.internalIp],
    ready: node.ready,
    capacity: node.capacity,
    providerId: `eks-hybrid:///${region}/${node.cluster}/${node.name}`,
    createdAt: node.createdAt,
  };
}

/** Reads Nodes from the sandbox estate, as the EKS reader reads them from the Kubernetes API. */
export function sandboxNodeReader(estate: SandboxEstate): NodeReaderFactory {
  return (cluster) => ({
    async getNode(name) {
      estate.calls.push({ service: 'kubernetes', command: 'GetNode' });
      const server = Object.values(estate.state.servers).find((s) => s.instanceId === name);
      if (server) advanceNode(estate, server);
      estate.save();
      const node = estate.state.nodes[name];
      return node && node.cluster === cluster.name ? toKubeNodeFromSandbox(node, cluster.region) : undefined;
    },
  });
}
