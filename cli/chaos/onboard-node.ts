import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { withServices } from '#lib/sandbox/index';
import { SandboxEstate } from '#lib/sandbox/estate';
import { removeCommands } from '#lib/onboarding/leftovers';
import type { OnboardingSummary } from '#lib/onboarding/finish';
import type { OnboardingInput } from '#lib/onboarding/state';
import { kubernetesOf } from '#lib/sandbox/workloads';
import { gpuCheckNamespace, requestLabelKey } from '#lib/settings';
import { sandboxLocalRuntime } from '../local-runtime';
import { PROJECT_ROOT } from '../serverless-config';
import { onboardNode } from '../workflows/onboard-node';
import { alertText, type ChaosWorkflow, commonInvariants, messageCounts, type Outcome } from './engine';

/**
 * The onboarding workflow under chaos: a fresh estate, the seed's GPU server (its request asks for
 * the nvidia-smi smoke test), and a scenario for how the server behaves (most join; some never
 * register, stay NotReady, never become a Node, have no NVIDIA device plugin or a failing
 * nvidia-smi), some as a fleet member.
 */

const REQUEST_TAG = 'hybridops:request-id';
/** A kind of run: the sandbox scenario, and `member` for a fleet member's run (it publishes nothing). */
const FLEET_MEMBER = 'joins:fleet-member';
const SCENARIOS = [
  'joins',
  'joins',
  'joins',
  'joins',
  'stays-not-ready',
  'registers-no-node',
  'never-registers',
  'no-device-plugin',
  'smoke-test-fails',
  FLEET_MEMBER,
];
const KINDS = [...new Set(SCENARIOS)];

export const onboardNodeChaos: ChaosWorkflow = {
  name: 'onboard-node',
  variants: KINDS.length,

  async arrange(r, home, variant) {
    const estate = withServices(SandboxEstate.inMemory());
    const kind = variant ?? KINDS.indexOf(r.pick(SCENARIOS));
    const member = KINDS[kind] === FLEET_MEMBER;
    estate.state.scenario = (KINDS[kind] as string).split(':')[0] as string;
    const local = sandboxLocalRuntime(estate, home);
    const body = JSON.parse(readFileSync(join(PROJECT_ROOT, 'events', 'onboard-node.json'), 'utf8')) as Record<
      string,
      unknown
    >;
    // A server that never registers is given up on when its activation expires: an hour, not a day.
    if (estate.state.scenario === 'never-registers') body.activationExpiresInHours = 1;
    const prepared = await onboardNode.prepare(JSON.stringify(body), local);
    if (!prepared.ok) throw new Error(`the chaos request was rejected: ${prepared.problems.join('; ')}`);
    const input: OnboardingInput = {
      ...(prepared.input as OnboardingInput),
      ...(member ? { fleet: { fleetId: 'fleet-chaos-0123456789ab', index: 0 } } : {}),
    };
    return { local: { ...local, estate }, workflow: onboardNode, input, facts: { input }, variant: kind };
  },

  async check(outcome) {
    return [...commonInvariants(outcome), ...onboardingInvariants(outcome)];
  },
};

function onboardingInvariants(outcome: Outcome): string[] {
  const broken: string[] = [];
  const { estate, result } = outcome;
  const input = outcome.arranged.facts.input as OnboardingInput;
  const { requestId, resources } = input;
  if (!resources) return ["the execution input names the request's resources (the last-resort alerts quote them)"];
  const undelivered = result.error?.name === 'AlertDeliveryError';
  // Where a leftover may be named: the alert, or (SNS down for good) the failed execution's cause.
  // A fleet member publishes nothing: the fleet's message quotes its cause, or its brief's warnings.
  const member = input.fleet
    ? `${result.error?.cause ?? ''}\n${JSON.stringify((result.output as OnboardingSummary | undefined)?.brief ?? null)}`
    : '';
  const told = `${alertText(outcome.alerts)}\n${undelivered ? (result.error?.cause ?? '') : ''}\n${member}`;

  // A leftover counts as named only by the command that removes it (or, where the cleanup could
  // not list them, the query that finds them): a mention elsewhere ("registered as mi-...") is not.
  const request = input.request as { cluster: string; node: { name: string } };
  const c = removeCommands(outcome.arranged.local.runtime.settings, {
    requestId,
    cluster: request.cluster,
    nodeName: request.node.name,
  });
  const ours = (tags: Array<{ Key: string; Value: string }>) =>
    tags.some((t) => t.Key === REQUEST_TAG && t.Value === requestId);
  for (const activation of Object.values(estate.state.activations).filter((a) => ours(a.tags))) {
    if (!told.includes(c.activation(activation.id)) && !told.includes(c.taggedActivations))
      broken.push(
        `no activation of the request is left unless the alert says how to remove it (${activation.id} is left)`,
      );
  }
  for (const name of Object.keys(estate.state.parameters).filter((p) => p.startsWith(`${resources.parameterPath}/`))) {
    if (!told.includes(c.parameters)) {
      broken.push(
        `no SecureString parameter of the request is left unless the alert says how to remove it (${name} is left)`,
      );
    }
  }
  const lock = estate.state.parameters[resources.lockParameter];
  if (lock?.value.includes(requestId) && !(c.lock && told.includes(c.lock))) {
    broken.push(
      `no lock of the request is left unless the alert says how to remove it (${resources.lockParameter} is left)`,
    );
  }
  for (const gone of estate.deregistered.filter((d) => !ours(d.tags))) {
    broken.push(
      `a managed instance is deregistered only if it carries this request's tag (${gone.instanceId} did not)`,
    );
  }
  // A server the workflow saw join is what was asked for (even if telling the team then failed);
  // in any other run it is left over.
  const joined = result.visited.includes('NotifySuccess') || result.visited.includes('MemberJoined');
  const instances = joined ? [] : Object.values(estate.state.instances).filter((i) => ours(i.tags));
  const nodes = joined
    ? []
    : Object.values(estate.state.nodes).filter((n) => Object.values(n.labels).includes(requestId));
  for (const { instanceId } of instances) {
    const removable = [c.instance(instanceId), c.node(instanceId), c.taggedInstances];
    if (!removable.some((command) => told.includes(command))) {
      broken.push(
        `a managed instance left behind is in an alert with the command that removes it (${instanceId} is not)`,
      );
    }
  }
  for (const { name } of nodes) {
    if (!told.includes(c.node(name)) && !told.includes(c.nodeSelector)) {
      broken.push(`a Node left behind is in an alert with the command that removes it (${name} is not)`);
    }
  }

  broken.push(...gpuInvariants(outcome, input, told));

  const messages = messageCounts(outcome);
  if (input.fleet) {
    // A fleet member's outcome goes in the fleet's one message, never one of its own.
    if (outcome.alerts.length) broken.push(`a fleet member publishes nothing (${outcome.alerts.length} sent)`);
  } else if (undelivered) {
    if (result.status !== 'FAILED') broken.push('a run whose alert could not be delivered ends FAILED');
  } else if (messages.distinct !== 1) {
    broken.push(`exactly one outcome message per run (${messages.distinct} were sent)`);
  }
  if (messages.repeated.length && !messages.ambiguous) {
    broken.push(`an outcome message goes out once (${messages.repeated.join('; ')})`);
  }

  // Every code SSM issued in this run, including those whose answer was lost on the way.
  const codes = outcome.calls
    .filter((c) => c.command === 'CreateActivation')
    .map((c) => String((c.output as { ActivationCode?: string } | undefined)?.ActivationCode ?? ''))
    .filter(Boolean);
  if (outcome.calls.some((c) => c.command === 'CreateActivation' && c.outcome === 'ok') && codes.length === 0) {
    broken.push('the chaos check sees the activation codes SSM issued');
  }
  const seen = [
    JSON.stringify(result.history),
    JSON.stringify(result.output ?? null),
    JSON.stringify(result.error ?? null),
    alertText(outcome.alerts),
    outcome.logs,
  ].join('\n');
  if (codes.some((code) => seen.includes(code))) {
    broken.push('no activation code in the execution history, output, alerts or logs');
  }
  return broken;
}

/**
 * GPU verification: a run that joins a GPU request says what became of the GPUs (a verdict in its
 * summary, `brief` always there), and no smoke-test pod is left running unless the message says
 * how to delete it.
 */
function gpuInvariants(outcome: Outcome, input: OnboardingInput, told: string): string[] {
  const broken: string[] = [];
  const request = input.request as { gpu?: { count: number; smokeTest?: boolean } };
  const { result, estate } = outcome;
  if (result.status === 'SUCCEEDED') {
    const summary = result.output as OnboardingSummary;
    if (!summary.brief) broken.push('a run that ends SUCCEEDED has a brief in its output');
    if (request.gpu && summary.outcome !== 'joined-cleanup-failed' && !summary.gpu?.verdict) {
      broken.push('a run that ends SUCCEEDED with a GPU request has a GPU verdict');
    }
    if (request.gpu && summary.brief && summary.brief.status === 'joined' && summary.gpu?.verdict !== 'verified') {
      broken.push(`GPUs that are not verified make the run a warning (${summary.gpu?.verdict} was not)`);
    }
  }
  const settings = outcome.arranged.local.runtime.settings;
  const namespace = gpuCheckNamespace(settings);
  const c = removeCommands(settings, { requestId: input.requestId });
  for (const pod of Object.values(kubernetesOf(estate.state).pods)) {
    if (pod.namespace !== namespace || pod.deletionTimestamp) continue;
    if (pod.labels[requestLabelKey(settings)] !== input.requestId) continue;
    if (!told.includes(c.pod(pod.namespace, pod.name))) {
      broken.push(`no smoke-test pod is left behind unless the alert says how to delete it (${pod.name} is left)`);
    }
  }
  return broken;
}
