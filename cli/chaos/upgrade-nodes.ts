import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { withServices } from '#lib/sandbox/index';
import { SandboxEstate } from '#lib/sandbox/estate';
import { parseKubeletVersion } from '#lib/domain/kubernetes';
import type { UpgradeInput } from '#lib/upgrades/state';
import { sandboxLocalRuntime } from '../local-runtime';
import { PROJECT_ROOT } from '../serverless-config';
import { upgradeNodes } from '../workflows/upgrade-nodes';
import { alertText, type ChaosWorkflow, commonInvariants, messageCounts, type Outcome } from './engine';

/**
 * The rolling upgrade under chaos: the sandbox's fleet rolled to the cluster's version, one node
 * at a time or two, the hosts upgrading, failing, blocked by a PodDisruptionBudget or offline.
 */

/** Each kind of run: how the hosts behave, and how many nodes go at once. */
const KINDS: Array<{ scenario: string; maxUnavailable: number }> = [
  { scenario: 'joins', maxUnavailable: 1 },
  { scenario: 'joins', maxUnavailable: 2 },
  { scenario: 'upgrade-fails', maxUnavailable: 1 },
  { scenario: 'drain-blocked', maxUnavailable: 2 },
  { scenario: 'host-offline', maxUnavailable: 1 },
];
/** How often each kind is drawn: mostly clean rollouts. */
const DRAWS = [0, 0, 1, 1, 2, 3, 4];

interface NodeFacts {
  unschedulable: boolean;
  kubeletVersion?: string;
}

const nodesOf = (estate: SandboxEstate): Record<string, NodeFacts> =>
  Object.fromEntries(
    Object.values(estate.state.nodes).map((n) => [
      n.name,
      { unschedulable: n.unschedulable === true, kubeletVersion: n.kubeletVersion },
    ]),
  );

export const upgradeNodesChaos: ChaosWorkflow = {
  name: 'upgrade-nodes',
  variants: KINDS.length,

  async arrange(r, home, variant) {
    const estate = withServices(SandboxEstate.inMemory());
    const index = variant ?? r.pick(DRAWS);
    const kind = KINDS[index] as (typeof KINDS)[number];
    estate.state.scenario = kind.scenario;
    const local = sandboxLocalRuntime(estate, home);
    const body = JSON.parse(readFileSync(join(PROJECT_ROOT, 'events', 'upgrade-nodes.json'), 'utf8')) as Record<
      string,
      unknown
    >;
    body.maxUnavailable = kind.maxUnavailable;
    const prepared = await upgradeNodes.prepare(JSON.stringify(body), local);
    if (!prepared.ok) throw new Error(`the chaos request was rejected: ${prepared.problems.join('; ')}`);
    const input = prepared.input as UpgradeInput;
    const controlPlane = estate.seed.clusters.find((c) => c.name === input.request.cluster)?.version ?? '';
    return {
      local: { ...local, estate },
      workflow: upgradeNodes,
      input,
      facts: { input, before: nodesOf(estate), controlPlane },
      variant: index,
    };
  },

  async check(outcome) {
    return [...commonInvariants(outcome), ...upgradeInvariants(outcome)];
  },
};

function upgradeInvariants(outcome: Outcome): string[] {
  const broken: string[] = [];
  const { estate, result } = outcome;
  const facts = outcome.arranged.facts as {
    input: UpgradeInput;
    before: Record<string, NodeFacts>;
    controlPlane: string;
  };
  const { upgradeId, resources } = facts.input;
  const undelivered = result.error?.name === 'AlertDeliveryError';
  // Where a leftover may be said: the alert, or (SNS down for good) the failed execution's cause.
  const told = `${alertText(outcome.alerts)}\n${undelivered ? (result.error?.cause ?? '') : ''}`;
  const after = nodesOf(estate);

  for (const name of Object.keys(facts.before)) {
    if (!after[name]) broken.push(`no Node is deleted (${name} is gone)`);
  }
  const plane = parseKubeletVersion(facts.controlPlane);
  for (const [name, node] of Object.entries(after)) {
    const version = parseKubeletVersion(node.kubeletVersion);
    if (plane && version && (version.major !== plane.major || version.minor > plane.minor)) {
      broken.push(
        `a node is never upgraded past the ${facts.controlPlane} control plane (${name} is at ${node.kubeletVersion})`,
      );
    }
    // Cordoned by this run (not before it): the alert names it as cordoned, or (when the report
    // could not be written) gives the command that lists the cordoned nodes.
    const cordonedByRun = node.unschedulable && !facts.before[name]?.unschedulable;
    const named = told.split('\n').some((l) => l.includes(name) && /cordon/i.test(l));
    if (cordonedByRun && !named && !told.includes('grep SchedulingDisabled')) {
      broken.push(`no node is left cordoned without an alert saying so (${name} is)`);
    }
  }
  for (const [parameter, value] of Object.entries(estate.state.parameters)) {
    if (!parameter.startsWith(`${resources.lockPath}/`) || !value.value.includes(upgradeId)) continue;
    if (!told.includes(parameter) && !told.includes(`--path ${resources.lockPath}`)) {
      broken.push(`no lock of the upgrade is left unless the alert says how to remove it (${parameter} is left)`);
    }
  }
  const messages = messageCounts(outcome);
  if (undelivered) {
    if (result.status !== 'FAILED') broken.push('a run whose summary could not be delivered ends FAILED');
  } else if (messages.distinct !== 1) {
    broken.push(`exactly one summary message per run (${messages.distinct} were sent)`);
  }
  if (messages.repeated.length && !messages.ambiguous) {
    broken.push(`the summary goes out once (${messages.repeated.join('; ')})`);
  }
  return broken;
}
