import { offboardCommands } from '#lib/offboarding/leftovers';
import type { OffboardingInput } from '#lib/offboarding/state';
import { withServices } from '#lib/sandbox/index';
import { SandboxEstate } from '#lib/sandbox/estate';
import { sandboxClusterArn } from '#lib/sandbox/state';
import { requestParameters, type Settings } from '#lib/settings';
import { sandboxLocalRuntime } from '../local-runtime';
import { offboardNode } from '../workflows/offboard-node';
import { alertText, type ChaosWorkflow, commonInvariants, messageCounts, type Outcome } from './engine';

/**
 * The offboarding workflow under chaos: a fresh estate, one of the seed's fleet nodes to take
 * out, and a kind of run: its host online, its drain blocked by frozen PodDisruptionBudgets (with
 * and without force), nodeadm uninstall failing, its host offline, the uninstall skipped. Each
 * node also has an activation and stored onboarding parameters left for it, for the removal to
 * find.
 */

interface Variant {
  node: string;
  scenario: string;
  options: Record<string, unknown>;
}

/**
 * Drains long enough for the seed's budgets (one llm-inference pod at a time, its replacement Ready
 * 60 s later); a blocked one gives up (or forces) after four passes.
 */
const DRAIN = { drainTimeoutSeconds: 300 };
const BLOCKED = { drainTimeoutSeconds: 60 };
const VARIANTS: Variant[] = [
  { node: 'gpu-node-12', scenario: 'joins', options: DRAIN },
  { node: 'gpu-node-12', scenario: 'drain-blocked', options: BLOCKED },
  { node: 'gpu-node-12', scenario: 'drain-blocked', options: { ...BLOCKED, force: true } },
  { node: 'gpu-node-12', scenario: 'uninstall-fails', options: DRAIN },
  { node: 'gpu-node-12', scenario: 'host-offline', options: DRAIN },
  { node: 'cpu-node-04', scenario: 'joins', options: { ...DRAIN, skipUninstall: true } },
];
/** How often each kind of run is drawn: the happy path most. */
const DRAWS = [0, 0, 0, 1, 2, 3, 4, 5];

/**
 * What a failed onboarding of `name` left behind: an unused activation, tagged for the cluster,
 * and the NodeConfig it stored. The offboarding removes both.
 */
function leaveOnboardingRemains(
  estate: SandboxEstate,
  settings: Pick<Settings, 'parameterPrefix'>,
  name: string,
): { activationId: string; parameter: string } {
  const activationId = `0c0ffee0-0000-4000-8000-${String(name.length).padStart(12, '0')}`;
  const requestId = `${name}-left-behind`;
  const now = estate.clock.now();
  estate.state.activations[activationId] = {
    id: activationId,
    code: 'left-behind-code',
    iamRole: estate.seed.iamRoles[0] ?? 'AmazonEKSHybridNodesRole',
    registrationLimit: 1,
    registrationsCount: 0,
    expirationDate: new Date(now.getTime() + 24 * 3600_000).toISOString(),
    createdDate: now.toISOString(),
    defaultInstanceName: name,
    tags: [
      { Key: 'EKSClusterARN', Value: sandboxClusterArn(estate.seed, estate.seed.clusters[0]?.name ?? '') },
      { Key: 'hybridops:request-id', Value: requestId },
      { Key: 'hybridops:node-name', Value: name },
    ],
  };
  const parameter = requestParameters(settings, requestId).nodeConfig;
  estate.state.parameters[parameter] = {
    name: parameter,
    type: 'SecureString',
    value: '{}',
    version: 1,
    tier: 'Standard',
    lastModified: now.toISOString(),
  };
  return { activationId, parameter };
}

export const offboardNodeChaos: ChaosWorkflow = {
  name: 'offboard-node',
  variants: VARIANTS.length,

  async arrange(r, home, variant) {
    const estate = withServices(SandboxEstate.inMemory());
    const kind = variant ?? r.pick(DRAWS);
    const v = VARIANTS[kind] as Variant;
    estate.state.scenario = v.scenario;
    const local = sandboxLocalRuntime(estate, home);
    const remains = leaveOnboardingRemains(estate, local.runtime.settings, v.node);
    const prepared = await offboardNode.prepare(JSON.stringify({ node: v.node, ...v.options }), local);
    if (!prepared.ok) throw new Error(`the chaos request was rejected: ${prepared.problems.join('; ')}`);
    const input = prepared.input as OffboardingInput;
    const before = Object.fromEntries(Object.values(estate.state.nodes).map((n) => [n.name, n.unschedulable === true]));
    return {
      local: { ...local, estate },
      workflow: offboardNode,
      input,
      facts: { input, before, ...remains },
      variant: kind,
    };
  },

  async check(outcome) {
    return [...commonInvariants(outcome), ...offboardingInvariants(outcome)];
  },
};

function offboardingInvariants(outcome: Outcome): string[] {
  const broken: string[] = [];
  const { estate, result } = outcome;
  const facts = outcome.arranged.facts as {
    input: OffboardingInput;
    before: Record<string, boolean>;
    activationId: string;
    parameter: string;
  };
  const { input } = facts;
  const target = input.target.nodeName;
  const settings = outcome.arranged.local.runtime.settings;
  const c = offboardCommands(settings, {
    requestId: input.requestId,
    cluster: input.request.cluster,
    nodeName: target,
    lockName: input.target.onboardedName ?? target,
  });
  const clusterArn = sandboxClusterArn(estate.seed, input.request.cluster);
  const undelivered = result.error?.name === 'AlertDeliveryError';
  // Where a leftover may be named: the alerts, or (SNS down for good) the failed execution's cause.
  const told = `${alertText(outcome.alerts)}\n${undelivered ? (result.error?.cause ?? '') : ''}`;

  // No Node deleted that was not asked for; the one asked for only by the step that removes it.
  for (const name of Object.keys(facts.before)) {
    if (estate.state.nodes[name]) continue;
    if (name !== target) broken.push(`no Node is deleted that was not asked for (${name} was)`);
    else if (!result.visited.includes('RemoveNode')) {
      broken.push(`the Node is deleted only by RemoveNode, after the drain (${name} went before)`);
    }
  }
  for (const gone of estate.deregistered.filter((d) => d.instanceId !== target)) {
    broken.push(`no managed instance is deregistered but the node's (${gone.instanceId} was)`);
  }
  // No Node left cordoned without an alert saying so.
  for (const node of Object.values(estate.state.nodes)) {
    if (!node.unschedulable || facts.before[node.name]) continue;
    if (!told.includes(`kubectl uncordon ${node.name}`)) {
      broken.push(`no Node is left cordoned without an alert saying so (${node.name} is cordoned)`);
    }
  }
  // No lock left, unless the alert says how to remove it.
  const lock = estate.state.parameters[input.resources.lockParameter];
  if (lock?.value.includes(input.requestId) && !told.includes(c.lock)) {
    broken.push(`no lock is left unless the alert says how to remove it (${input.resources.lockParameter} is left)`);
  }
  // Every leftover of a node that is gone is in an alert with the command that removes it.
  if (!estate.state.nodes[target]) {
    if (estate.state.instances[target] && !told.includes(c.deregister)) {
      broken.push(`a managed instance left behind is in an alert with its remove command (${target} is not)`);
    }
    // Named by the command that removes it, or (the activations could not be listed) the one that finds them.
    const listed = told.includes(c.activationsFor(input.target.onboardedName ?? '', clusterArn));
    if (estate.state.activations[facts.activationId] && !told.includes(c.activation(facts.activationId)) && !listed) {
      broken.push(
        `an activation left for the node is in an alert with its remove command (${facts.activationId} is not)`,
      );
    }
    const parameters = facts.parameter.replace(/\/node-config$/, '');
    if (estate.state.parameters[facts.parameter] && !told.includes(parameters) && !listed) {
      broken.push(`parameters left for the node are in an alert with their remove command (${parameters} are not)`);
    }
  } else if (estate.state.nodes[target]?.unschedulable && !facts.before[target] && !told.includes(c.uncordon)) {
    broken.push(`a Node left cordoned is in an alert with the command that puts it back (${target} is not)`);
  }

  const messages = messageCounts(outcome);
  if (undelivered) {
    if (result.status !== 'FAILED') broken.push('a run whose alert could not be delivered ends FAILED');
  } else if (messages.distinct !== 1) {
    broken.push(`exactly one outcome message per run (${messages.distinct} were sent)`);
  }
  if (messages.repeated.length && !messages.ambiguous) {
    broken.push(`an outcome message goes out once (${messages.repeated.join('; ')})`);
  }
  return broken;
}
