import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { withServices } from '#lib/sandbox/index';
import { SandboxEstate } from '#lib/sandbox/estate';
import { removeCommands } from '#lib/onboarding/leftovers';
import type { OnboardingInput } from '#lib/onboarding/state';
import { sandboxLocalRuntime } from '../local-runtime';
import { PROJECT_ROOT } from '../serverless-config';
import { onboardNode } from '../workflows/onboard-node';
import { alertText, type ChaosWorkflow, commonInvariants, messageCounts, type Outcome } from './engine';

/**
 * The onboarding workflow under chaos: a fresh estate, the seed's GPU server, and a scenario for
 * how the server behaves (most join; some never register, stay NotReady, or never become a Node).
 */

const REQUEST_TAG = 'hybridops:request-id';
const SCENARIOS = [
  'joins',
  'joins',
  'joins',
  'joins',
  'joins',
  'stays-not-ready',
  'registers-no-node',
  'never-registers',
];
const KINDS = [...new Set(SCENARIOS)];

export const onboardNodeChaos: ChaosWorkflow = {
  name: 'onboard-node',
  variants: KINDS.length,

  async arrange(r, home, variant) {
    const estate = withServices(SandboxEstate.inMemory());
    const kind = variant ?? KINDS.indexOf(r.pick(SCENARIOS));
    estate.state.scenario = KINDS[kind] as string;
    const local = sandboxLocalRuntime(estate, home);
    const body = JSON.parse(readFileSync(join(PROJECT_ROOT, 'events', 'onboard-node.json'), 'utf8')) as Record<
      string,
      unknown
    >;
    // A server that never registers is given up on when its activation expires: an hour, not a day.
    if (estate.state.scenario === 'never-registers') body.activationExpiresInHours = 1;
    const prepared = await onboardNode.prepare(JSON.stringify(body), local);
    if (!prepared.ok) throw new Error(`the chaos request was rejected: ${prepared.problems.join('; ')}`);
    const input = prepared.input as OnboardingInput;
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
  const told = `${alertText(outcome.alerts)}\n${undelivered ? (result.error?.cause ?? '') : ''}`;

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
  const joined = result.visited.includes('NotifySuccess');
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

  const messages = messageCounts(outcome);
  if (undelivered) {
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
