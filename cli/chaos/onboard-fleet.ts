import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { FleetInput, FleetManifest } from '#lib/fleets/state';
import { removeCommands } from '#lib/onboarding/leftovers';
import { withServices } from '#lib/sandbox/index';
import { SandboxEstate } from '#lib/sandbox/estate';
import { parseScenarioOption } from '#lib/sandbox/scenarios';
import { sandboxLocalRuntime } from '../local-runtime';
import type { RunResult } from '../runner';
import { PROJECT_ROOT } from '../serverless-config';
import { fleetOutcomeOf, onboardFleet } from '../workflows/onboard-fleet';
import { alertText, type ChaosWorkflow, commonInvariants, messageCounts, type Outcome } from './engine';

/**
 * The fleet workflow under chaos: a fresh estate and a small fleet (3 to 5 of the PoC's servers),
 * most joining, some with one server that never registers or whose GPUs never appear. Faults hit
 * the fleet's own Tasks and every AWS call, the children's included.
 */

const REQUEST_TAG = 'hybridops:request-id';
/** How the servers behave: all join, or one of them (the second) does not. */
const SCENARIOS = ['joins', 'joins', 'joins', 'never-registers:gpu-node-02', 'no-device-plugin:gpu-node-03'];
const KINDS = [...new Set(SCENARIOS)];

export const onboardFleetChaos: ChaosWorkflow = {
  name: 'onboard-fleet',
  variants: KINDS.length,

  async arrange(r, home, variant) {
    const estate = withServices(SandboxEstate.inMemory());
    const kind = variant ?? KINDS.indexOf(r.pick(SCENARIOS));
    useScenario(estate, KINDS[kind] as string);
    const local = sandboxLocalRuntime(estate, home);
    const body = JSON.parse(readFileSync(join(PROJECT_ROOT, 'events', 'onboard-fleet.json'), 'utf8')) as {
      servers: unknown[];
      defaults: Record<string, unknown>;
      clientToken?: string;
    };
    body.servers = body.servers.slice(0, 3 + r.int(3));
    delete body.clientToken;
    // A server that never registers is given up on when its activation expires: an hour, not a day.
    body.defaults.activationExpiresInHours = 1;
    const prepared = await onboardFleet.prepare(JSON.stringify(body), local);
    if (!prepared.ok) throw new Error(`the chaos fleet was rejected: ${prepared.problems.join('; ')}`);
    const input = prepared.input as FleetInput;
    const manifest = estate.state.objects?.[local.runtime.settings.storeBucket ?? '']?.[input.manifestKey];
    return {
      local: { ...local, estate },
      workflow: onboardFleet,
      input,
      facts: { input, manifest: JSON.parse(manifest ?? 'null') as FleetManifest },
      variant: kind,
    };
  },

  async check(outcome) {
    return [...commonInvariants(outcome), ...fleetInvariants(outcome)];
  },
};

/** Sets the scenario the servers follow, as `--scenario` does (a bare name, or `scenario:server` pairs). */
export function useScenario(estate: SandboxEstate, option: string): void {
  const choice = parseScenarioOption(option, Object.keys(estate.seed.scenarios));
  if ('problem' in choice) throw new Error(choice.problem);
  estate.state.scenario = choice.scenario;
  if (Object.keys(choice.servers).length) estate.state.serverScenarios = choice.servers;
  else delete estate.state.serverScenarios;
}

/** Every execution of the run: the fleet's and its children's. */
const executions = (result: RunResult): RunResult[] => [result, ...(result.children ?? []).flatMap(executions)];

function fleetInvariants(outcome: Outcome): string[] {
  const broken: string[] = [];
  const { estate, result } = outcome;
  const input = outcome.arranged.facts.input as FleetInput;
  const manifest = outcome.arranged.facts.manifest as FleetManifest | null;
  if (!manifest) return ['the fleet wrote its manifest before it started'];
  const undelivered = result.error?.name === 'AlertDeliveryError';
  const told = `${alertText(outcome.alerts)}\n${undelivered ? (result.error?.cause ?? '') : ''}`;
  const fallback = result.visited.includes('ComposeFallbackAlert') || result.visited.includes('ComposeMapFailureAlert');
  const children = new Map((result.children ?? []).map((c) => [c.executionName, c]));

  for (const member of manifest.members) {
    const { requestId } = member;
    const request = member.input.request as { cluster: string; node: { name: string } };
    const c = removeCommands(outcome.arranged.local.runtime.settings, {
      requestId,
      cluster: request.cluster,
      nodeName: request.node.name,
    });
    // What this member left is named with the command that removes it; in a last-resort alert
    // (no summary could be made) by its request id, each server's status being GET /nodes/<id>.
    const named = (commands: Array<string | undefined>) =>
      commands.some((command) => command && told.includes(command)) || (fallback && told.includes(requestId));
    const ours = (tags: Array<{ Key: string; Value: string }>) =>
      tags.some((t) => t.Key === REQUEST_TAG && t.Value === requestId);
    for (const activation of Object.values(estate.state.activations).filter((a) => ours(a.tags))) {
      if (!named([c.activation(activation.id), c.taggedActivations]))
        broken.push(
          `every member's activation is gone or named with its command (${request.node.name}: ${activation.id} is left)`,
        );
    }
    const parameters = Object.keys(estate.state.parameters).filter((p) =>
      p.startsWith(`${member.input.resources?.parameterPath}/`),
    );
    if (parameters.length && !named([c.parameters])) {
      broken.push(`every member's stored code is gone or named with its command (${parameters.join(', ')} is left)`);
    }
    const lock = member.input.resources ? estate.state.parameters[member.input.resources.lockParameter] : undefined;
    if (lock?.value.includes(requestId) && !named([c.lock])) {
      broken.push(`every member's lock is released or named with its command (${request.node.name}'s is left)`);
    }
    const child = children.get(requestId);
    const joined = child?.status === 'SUCCEEDED';
    if (!joined) {
      for (const { instanceId } of Object.values(estate.state.instances).filter((i) => ours(i.tags))) {
        if (!named([c.instance(instanceId), c.node(instanceId), c.taggedInstances]))
          broken.push(`a member that did not join leaves no managed instance unnamed (${instanceId} is left)`);
      }
    }
  }
  const tagged = new Set(manifest.members.map((m) => m.requestId));
  for (const gone of estate.deregistered) {
    if (!gone.tags.some((t) => t.Key === REQUEST_TAG && tagged.has(t.Value)))
      broken.push(`a managed instance is deregistered only if a member's tag is on it (${gone.instanceId} is not)`);
  }

  // One message for the fleet, none for a member.
  const messages = messageCounts(outcome);
  if (undelivered) {
    if (result.status !== 'FAILED') broken.push('a fleet whose message could not be delivered ends FAILED');
  } else if (messages.distinct !== 1) {
    broken.push(`exactly one operators' message per fleet (${messages.distinct} were sent)`);
  }
  if (messages.repeated.length && !messages.ambiguous) {
    broken.push(`the fleet's message goes out once (${messages.repeated.join('; ')})`);
  }
  for (const a of outcome.alerts) {
    if (!(a.subject ?? '').includes(input.fleetId)) {
      broken.push(`no member sends a message of its own (one went out: ${a.subject})`);
    }
  }

  // The summary's counts match what the members did.
  const summary = fleetOutcomeOf(result);
  if (summary && !('fallback' in summary)) {
    const c = summary.counts;
    if (c.servers !== manifest.members.length || c.joined + c.warning + c.failed !== c.servers) {
      broken.push(`the summary counts every server once (${JSON.stringify(c)})`);
    }
    for (const node of summary.nodes ?? []) {
      const child = children.get(node.requestId);
      const childJoined = child?.status === 'SUCCEEDED';
      if ((node.status === 'failed') === childJoined) {
        broken.push(
          `the summary says what each server did (${node.name}: ${node.status}, its execution ${child?.status ?? 'never started'})`,
        );
      }
    }
    if (result.status === 'SUCCEEDED' && c.failed > 0) broken.push('a fleet with a failed server does not succeed');
  }
  if (result.status === 'SUCCEEDED' && [...children.values()].some((c) => c.status !== 'SUCCEEDED')) {
    broken.push('a fleet whose server failed does not succeed');
  }

  // Every code SSM issued in this run, including those whose answer was lost on the way.
  const codes = outcome.calls
    .filter((call) => call.command === 'CreateActivation')
    .map((call) => String((call.output as { ActivationCode?: string } | undefined)?.ActivationCode ?? ''))
    .filter(Boolean);
  const seen = [
    ...executions(result).map((e) => JSON.stringify([e.history, e.output ?? null, e.error ?? null])),
    alertText(outcome.alerts),
    outcome.logs,
  ].join('\n');
  if (codes.some((code) => seen.includes(code))) {
    broken.push('no activation code in any execution history, output, alert or log');
  }
  return broken;
}
