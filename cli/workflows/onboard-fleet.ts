import { userInfo } from 'node:os';
import { join } from 'node:path';
import type { FleetInput } from '#lib/fleets/state';
import { fleetExecution, validateFleetSubmission } from '#lib/fleets/submit';
import type { FleetOutcome } from '#lib/fleets/summarize-fleet';
import type { OnboardingInput } from '#lib/onboarding/state';
import { PHASE_OF_STATE } from '#lib/onboarding/status';
import { s3Store } from '#lib/store';
import { displayPath } from '../display';
import type { RunEvent, RunResult } from '../runner';
import { writeNodeConfigHandout } from './handout';
import type { LocalWorkflow, Output } from './types';

/**
 * The fleet's outcome: the execution's output when every server joined; otherwise what
 * SummarizeFleet (or its last-resort Pass) left in the state before the fleet failed.
 */
export function fleetOutcomeOf(result: RunResult): FleetOutcome | undefined {
  if (result.status === 'SUCCEEDED') return result.output as FleetOutcome;
  const exited = result.history
    .filter((h) => h.type === 'StateExited' && ['SummarizeFleet', 'ComposeFallbackAlert'].includes(h.state))
    .at(-1);
  return (exited?.data as { summary?: FleetOutcome } | undefined)?.summary;
}

/** The states of one server's iteration of the Map: their events are the server's, not the fleet's. */
const ITERATION_STATES = new Set([
  'PrepareMember',
  'OnboardServer',
  'MemberJoined',
  'DescribeMemberFailure',
  'ReadChildFailure',
  'ChildFailureHasError',
  'ChildFailed',
  'ChildFailedWithoutCause',
  'MemberFailed',
]);

/**
 * `hybridops run onboard-fleet`: the input file is the body of `POST /fleets`, validated as the API
 * validates it; the manifest goes to the run store as the API writes it. Each server's onboarding
 * is a child execution; as each one's NodeConfig is issued it is fetched as the team would fetch it
 * and written 0600 under `<home>/out/<fleetId>/<server>/`. One line per server as its phase
 * changes, then the fleet's summary; `--json` gives `output.nodes`.
 */
export const onboardFleet: LocalWorkflow = {
  name: 'onboard-fleet',

  async prepare(body, local) {
    const rt = local.runtime;
    const validation = await validateFleetSubmission(
      { clients: rt.clients, settings: rt.settings, now: () => rt.clock.now() },
      body,
    );
    if (!validation.ok) return { ok: false, problems: validation.problems.map((p) => `${p.field}: ${p.message}`) };
    const { input, manifest } = fleetExecution(validation, `local:${userInfo().username}`, rt.settings);
    await s3Store(rt.clients.s3, rt.settings.storeBucket).putJson(input.manifestKey, manifest);
    const names = input.members.map((m) => m.name);
    const shown = names.length <= 4 ? names.join(', ') : `${names[0]} .. ${names.at(-1)}`;
    return {
      ok: true,
      input,
      banner: `fleet ${input.fleetId}: ${names.length} server(s) (${shown}) into ${input.cluster}, ${input.maxConcurrency} at a time`,
    };
  },

  childRuns(local, out, input) {
    const fleet = input as FleetInput;
    return {
      afterTask(workflow, childInput): Record<string, (result: unknown) => Promise<void>> {
        if (workflow !== 'onboard-node') return {};
        const { requestId, request } = childInput as OnboardingInput & { request: { node: { name: string } } };
        return {
          RenderNodeConfig: async () => {
            const dir = join(local.home, 'out', fleet.fleetId, request.node.name);
            const { file } = await writeNodeConfigHandout(local, requestId, dir);
            out.line(`  ${request.node.name}: NodeConfig written to ${displayPath(file)} (mode 0600)`);
          },
        };
      },
    };
  },

  progress(out, input) {
    const names = new Map((input as FleetInput).members.map((m) => [m.requestId, m.name]));
    const phases = new Map<string, string>();
    return (event: RunEvent) => {
      if (event.type !== 'entered') return;
      if (event.execution) {
        const server = names.get(event.execution) ?? event.execution;
        const phase = PHASE_OF_STATE[event.state];
        if (!phase || phases.get(server) === phase) return;
        phases.set(server, phase);
        out.line(`  ${server}: ${phase}`);
      } else if (!ITERATION_STATES.has(event.state)) out.line(`  -> ${event.state}`);
    };
  },

  output(result) {
    const outcome = fleetOutcomeOf(result);
    if (!outcome) return null;
    return {
      fleetId: outcome.fleetId,
      status: outcome.status,
      headline: outcome.headline,
      counts: outcome.counts,
      nodes: outcome.nodes ?? [],
    };
  },

  summarize(result: RunResult, out: Output, sent) {
    const outcome = fleetOutcomeOf(result);
    const head =
      result.status === 'SUCCEEDED'
        ? outcome?.status === 'warning'
          ? 'SUCCEEDED with warnings'
          : 'SUCCEEDED'
        : `FAILED: ${result.error?.name}`;
    if (!outcome) {
      out.line(head);
      out.line(`  ${result.error?.cause}`);
      return;
    }
    out.line(`${head}: ${outcome.headline}`);
    for (const n of outcome.nodes ?? []) {
      const gpus = n.gpuAllocatable === null ? '' : `, ${n.gpuAllocatable} GPUs allocatable`;
      const status = { joined: 'joined', warning: 'joined with a warning', failed: 'failed, cleaned up' }[n.status];
      out.line(`  ${n.name}: ${status}${n.nodeName ? ` as ${n.nodeName}` : ''}${gpus}`);
    }
    // What went wrong and the fix, for each server that failed or joined with a warning: as the
    // operators' message says it.
    const sections = (sent.at(-1)?.message ?? '').split('\n\n');
    for (const section of sections.filter((t) => /^(Failed|Joined with warnings)/.test(t))) {
      for (const line of section.split('\n')) out.line(`  ${line}`);
    }
    for (const m of sent) out.line(`  operators notified: ${m.subject}`);
  },
};
