import { createHash } from 'node:crypto';
import type { SandboxEstate } from './estate';

/**
 * What a scenario says about the account and the hosts besides how servers join: other teams'
 * on-prem managed instances in the account, and GPUs that fell off. Applied when the scenario is
 * in force (whoever looks first), and kept until the sandbox is reset, as a registration or a
 * failed GPU would be.
 */
export function applyScenarioFacts(estate: SandboxEstate): void {
  const scenario = estate.seed.scenarios[estate.state.scenario];
  if (!scenario) return;
  if (scenario.otherManagedInstances > 0) registerOthers(estate, scenario.otherManagedInstances);
  for (const [server, lost] of Object.entries(scenario.lostGpus)) loseGpus(estate, server, lost);
}

/** Activation ids of the other teams' instances: activations deleted once used, as is usual. */
const OTHER_ACTIVATION = 'other-team-activation-';

/** Whether an instance is one of the other teams' (never this project's). */
export const isOtherTeamsInstance = (activationId: string) => activationId.startsWith(OTHER_ACTIVATION);

/**
 * Registers other teams' on-prem servers until `count` of them are: managed instances with no tag
 * of this project and no Node, so the sweep's inventory (which takes its clusters' Nodes and the
 * instances tagged for them) never counts them as a cluster's, while SSM lists them with every
 * ResourceType ManagedInstance query and counts them toward the tier. One in ten has lost its
 * agent's connection: it is still registered, and still counts (SSM user guide, "Configuring
 * instance tiers": the limit is on registered hybrid-activated nodes).
 */
function registerOthers(estate: SandboxEstate, count: number): void {
  const instances = estate.state.instances;
  const present = Object.values(instances).filter((i) => isOtherTeamsInstance(i.activationId)).length;
  const now = estate.clock.now().getTime();
  for (let n = present; n < count; n += 1) {
    const hex = createHash('sha256').update(`other:${estate.seed.account}:${n}`).digest('hex');
    const instanceId = `mi-${hex.slice(0, 17)}`;
    if (instances[instanceId]) continue;
    const registered = new Date(now - (1 + (n % 365)) * 24 * 3600_000).toISOString();
    instances[instanceId] = {
      instanceId,
      activationId: `${OTHER_ACTIVATION}${Math.floor(n / 50)}`,
      name: `build-agent-${String(n + 1).padStart(4, '0')}`,
      ipAddress: `10.${60 + Math.floor(n / 65_025)}.${Math.floor(n / 255) % 255}.${(n % 255) + 1}`,
      platformName: 'Ubuntu',
      platformVersion: '22.04',
      registrationDate: registered,
      tags: [{ Key: 'team', Value: 'ci-platform' }],
      ...(n % 10 === 9 ? { pingStatus: 'ConnectionLost' as const, lastPingAt: registered } : {}),
    };
  }
}

/**
 * The device plugin reports `lost` of the server's GPUs unhealthy (NVIDIA's plugin does on an Xid
 * error): they leave the Node's allocatable, not its capacity (the kubelet's device manager counts
 * healthy and unhealthy devices in capacity, healthy ones only in allocatable: kubernetes/kubernetes#57266).
 */
function loseGpus(estate: SandboxEstate, server: string, lost: number): void {
  const instance = Object.values(estate.state.instances).find((i) => i.name === server);
  const node = instance && estate.state.nodes[instance.instanceId];
  const capacity = Number(node?.capacity.gpu ?? 0);
  if (!node || capacity === 0) return;
  node.allocatable = { ...node.allocatable, gpu: String(Math.max(0, capacity - lost)) };
}
