import { parse } from 'yaml';
import { SSM_STANDARD_TIER_INSTANCES } from '../ssm-quota';
import type { SandboxEstate } from './estate';
import { advanceDevicePlugin } from './gpu';
import { advanceHosts, hostOf, installOf, joinedHost } from './hosts';
import { applyScenarioFacts } from './scenario-facts';
import { scenarioFor } from './scenarios';
import { pacedSeconds, serverProfile } from './server-profile';
import type { SandboxNode, SimulatedServer } from './state';

/**
 * The on-prem side of the sandbox. A server that is handed a NodeConfig "runs nodeadm" with it
 * on its own timeline, in sandbox time: after `registersAfterSeconds` it registers with the
 * activation named in the NodeConfig (if the code matches, the activation still exists, has not
 * expired and has registrations left); `nodeAppearsAfterSeconds` later its kubelet creates a Node
 * with the labels and taints from the NodeConfig's flags, NotReady until `readyAfterSeconds` later
 * "a CNI runs"; on a GPU server, the NVIDIA device plugin registers its GPUs a while after that
 * (lib/sandbox/gpu.ts). Looking (polls, Node reads) only observes: the world moves with the clock.
 * The server runs the handout's instructions: its kubelet is the version `nodeadm install` named,
 * and its NodeConfig stays where `nodeadm init -c` read it (what a later `nodeadm upgrade` needs);
 * after the join, lib/sandbox/hosts.ts runs what Run Command sends it.
 */

const NO_CNI_MESSAGE =
  'container runtime network not ready: NetworkReady=false reason:NetworkPluginNotReady message:Network plugin returns error: cni plugin not initialized';

function flagValue(flags: string[], name: string): string | undefined {
  return flags.find((f) => f.startsWith(`${name}=`))?.slice(name.length + 1);
}

const plus = (iso: string, seconds: number) => new Date(Date.parse(iso) + seconds * 1000);

/** Called when a NodeConfig is read with decryption: the team fetched it for its server. */
export function handOutNodeConfig(estate: SandboxEstate, stored: string): void {
  const handout = JSON.parse(stored) as { nodeConfig: string; commands?: string[] };
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
    ...serverProfile(estate.seed, nodeName, activation, labels),
    labels,
    taints: (flagValue(config.spec.kubelet.flags, '--register-with-taints') ?? '').split(',').filter(Boolean),
    scenario: scenarioFor(estate, nodeName),
    install: installOf(handout.commands ?? [], clusterVersion(estate, config.spec.cluster.name)),
    handedOutAt: estate.clock.now().toISOString(),
    // A wrong code never registers: SSM rejects it, as it would the real agent.
    canRegister: activation?.code === activationCode,
  };
  estate.state.servers[activationId] = server;
}

const clusterVersion = (estate: SandboxEstate, cluster: string) =>
  estate.seed.clusters.find((c) => c.name === cluster)?.version ?? '1.33';

/** Moves every simulated server, and every host, forward to the sandbox clock's now. */
export function advanceOnPrem(estate: SandboxEstate): void {
  const now = estate.clock.now();
  applyScenarioFacts(estate);
  for (const server of Object.values(estate.state.servers)) {
    const scenario = estate.seed.scenarios[server.scenario];
    if (!scenario) continue;
    if (!server.instanceId) register(estate, server, pacedSeconds(scenario.registersAfterSeconds, server), now);
    const instance = server.instanceId ? estate.state.instances[server.instanceId] : undefined;
    if (server.readyAt) advanceDevicePlugin(estate, server, scenario, now);
    if (!server.instanceId || !instance || server.readyAt) continue;
    // The join's timeline: the kubelet registers its Node once, when it starts; a kubelet that
    // has stopped since (the host went down, nodeadm uninstall) makes none.
    const kubelet = hostOf(estate, server.instanceId)?.kubelet;
    const nodeAppears = pacedSeconds(scenario.nodeAppearsAfterSeconds, server);
    if (!server.nodeCreatedAt && kubelet?.running && nodeAppears !== null) {
      const createdAt = plus(instance.registrationDate, nodeAppears);
      if (createdAt <= now) {
        estate.state.nodes[server.instanceId] = newNode(server, server.instanceId, createdAt, kubelet.version);
        server.nodeCreatedAt = createdAt.toISOString();
      }
    }
    const node = estate.state.nodes[server.instanceId];
    const ready = pacedSeconds(scenario.readyAfterSeconds, server);
    if (node && kubelet?.running && node.ready.status !== 'True' && ready !== null) {
      const readyAt = plus(node.createdAt, ready);
      if (readyAt <= now) {
        server.readyAt = readyAt.toISOString();
        node.ready = {
          status: 'True',
          reason: 'KubeletReady',
          message: 'kubelet is posting ready status',
          since: server.readyAt,
        };
        advanceDevicePlugin(estate, server, scenario, now);
      }
    }
  }
  advanceHosts(estate);
}

function register(estate: SandboxEstate, server: SimulatedServer, after: number | null, now: Date): void {
  if (after === null || !server.canRegister) return;
  const at = plus(server.handedOutAt, after);
  if (at > now) return;
  const activation = estate.state.activations[server.activationId];
  if (
    !activation ||
    new Date(activation.expirationDate) <= at ||
    activation.registrationsCount >= activation.registrationLimit ||
    standardTierFull(estate)
  ) {
    server.canRegister = false; // SSM refuses the agent; it stops trying
    return;
  }
  activation.registrationsCount += 1;
  const instanceId = estate.nextId('mi-');
  server.instanceId = instanceId;
  estate.state.hosts[instanceId] = joinedHost(estate, server, instanceId, at.toISOString());
  estate.state.instances[instanceId] = {
    instanceId,
    activationId: server.activationId,
    name: server.nodeName,
    ipAddress: server.ip,
    platformName: server.platform,
    platformVersion: server.platformVersion,
    registrationDate: at.toISOString(),
    tags: [...activation.tags],
  };
}

/**
 * SSM's standard tier takes at most 1,000 on-prem managed instances per account and Region; "registering
 * more than 1,000 hybrid nodes requires that you activate the advanced-instances tier" (SSM user
 * guide, "Configuring instance tiers"). Every registered instance counts.
 */
function standardTierFull(estate: SandboxEstate): boolean {
  return (
    estate.seed.activationTier === 'standard' &&
    Object.keys(estate.state.instances).length >= SSM_STANDARD_TIER_INSTANCES
  );
}

function newNode(server: SimulatedServer, name: string, createdAt: Date, kubeletVersion: string): SandboxNode {
  return {
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
    // No nvidia.com/gpu yet: the NVIDIA device plugin registers the GPUs once it runs on the
    // Ready Node (lib/sandbox/gpu.ts, advanceDevicePlugin).
    capacity: { cpu: String(server.vcpus) },
    allocatable: { cpu: String(server.vcpus) },
    createdAt: createdAt.toISOString(),
    kubeletVersion,
  };
}
