import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { withServices } from '../../lib/sandbox';
import { SandboxEstate } from '../../lib/sandbox/estate';
import type { OnboardingInput } from '../../lib/onboarding/state';
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

export const onboardNodeChaos: ChaosWorkflow = {
  name: 'onboard-node',

  async arrange(r, home) {
    const estate = withServices(SandboxEstate.inMemory());
    estate.state.scenario = r.pick(SCENARIOS);
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
    return { local: { ...local, estate }, workflow: onboardNode, input, facts: { input } };
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

  const ours = (tags: Array<{ Key: string; Value: string }>) =>
    tags.some((t) => t.Key === REQUEST_TAG && t.Value === requestId);
  for (const activation of Object.values(estate.state.activations).filter((a) => ours(a.tags))) {
    const named =
      told.includes(activation.id) || (told.includes(`${REQUEST_TAG}=${requestId}`) && /activation/i.test(told));
    if (!named)
      broken.push(`no activation of the request is left unless the alert names it (${activation.id} is left)`);
  }
  for (const name of Object.keys(estate.state.parameters).filter((p) => p.includes(`/onboarding/${requestId}/`))) {
    if (!told.includes(name) && !told.includes(resources.parameterPath)) {
      broken.push(`no SecureString parameter of the request is left unless the alert names it (${name} is left)`);
    }
  }
  const lock = estate.state.parameters[resources.lockParameter];
  if (lock?.value.includes(requestId) && !told.includes(resources.lockParameter)) {
    broken.push(`no lock of the request is left unless the alert names it (${resources.lockParameter} is left)`);
  }
  for (const gone of estate.deregistered.filter((d) => !ours(d.tags))) {
    broken.push(
      `a managed instance is deregistered only if it carries this request's tag (${gone.instanceId} did not)`,
    );
  }
  const instances = Object.values(estate.state.instances).filter((i) => ours(i.tags));
  const nodes = Object.values(estate.state.nodes).filter((n) => Object.values(n.labels).includes(requestId));
  // Named by its id, or, when the cleanup could not list them, by the query that finds them.
  const instanceQuery = `Key=tag:${REQUEST_TAG},Values=${requestId}`;
  const nodeQuery = `-l ${outcome.arranged.local.runtime.settings.labelPrefix}/request-id=${requestId}`;
  for (const { instanceId } of instances) {
    if (!told.includes(instanceId) && !told.includes(instanceQuery)) {
      broken.push(`a managed instance left behind is named in an alert (${instanceId} is not)`);
    }
  }
  for (const { name } of nodes) {
    if (!told.includes(name) && !told.includes(nodeQuery)) {
      broken.push(`a Node left behind is named in an alert (${name} is not)`);
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

  // Every code this run issued went straight into its SecureString parameter: find them there.
  const codes = outcome.calls
    .filter((c) => c.command === 'PutParameter' && String(c.input?.Name ?? '').endsWith('/activation-code'))
    .map((c) => String(c.input?.Value ?? ''))
    .filter(Boolean);
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
