import { ExecutionStatus, type SFNClient } from '@aws-sdk/client-sfn';
import { GetParametersCommand, type SSMClient } from '@aws-sdk/client-ssm';
import {
  AlertDeliveryError,
  NotRequesterError,
  OnboardingEndedError,
  RequestNotFoundError,
  RequestRejectedError,
  splitFix,
} from '../errors';
import { describeExecution, executionArn, latestState } from '../executions';
import type { NodeConfigHandout } from '../onboarding/node-config';
import { phaseOfState, principalOf } from '../onboarding/status';
import type { OnboardingState } from '../onboarding/state';
import { requestParameters, type Settings } from '../settings';
import type { RunStore } from '../store';
import { FLEET_ID, type FleetInput, type FleetMemberRef } from './state';
import type { FleetSummary } from './summarize-fleet';
import { requireFleetStateMachine } from './submit';
import { mapLimit } from '../concurrency';

/** Servers read at once while a fleet runs: each is a DescribeExecution and, if it runs, a page or two of its history. */
export const STATUS_CONCURRENCY = 8;

/** GetParameters takes at most 10 names a call (SSM API reference, GetParameters, Names). */
const GET_PARAMETERS_MAX = 10;

const badId = (fleetId: string) =>
  new RequestRejectedError(`'${fleetId}' is not a fleet id (fleet-, then lower-case letters, digits and -).`);

async function fleetExecution(
  deps: { sfn: SFNClient; settings: Pick<Settings, 'fleetStateMachineArn'> },
  fleetId: string,
) {
  if (!FLEET_ID.test(fleetId)) throw badId(fleetId);
  const execution = await describeExecution(deps.sfn, executionArn(requireFleetStateMachine(deps.settings), fleetId));
  if (!execution) {
    throw new RequestNotFoundError(`No fleet '${fleetId}' exists.`, {
      fix: 'Use the fleetId that POST /fleets returned.',
    });
  }
  return { execution, input: JSON.parse(execution.input ?? '{}') as FleetInput };
}

/** One server of a fleet that has not ended (or whose result was never written): its child execution, read as GET /nodes reads it. */
async function memberLine(
  deps: { sfn: SFNClient; settings: Pick<Settings, 'onboardStateMachineArn'> },
  member: FleetMemberRef,
): Promise<Record<string, unknown>> {
  const line = { name: member.name, requestId: member.requestId };
  if (!deps.settings.onboardStateMachineArn)
    throw new Error('ONBOARD_STATE_MACHINE_ARN is not set; serverless.yml sets it.');
  const arn = executionArn(deps.settings.onboardStateMachineArn, member.requestId);
  const child = await describeExecution(deps.sfn, arn);
  if (!child) return { ...line, status: 'waiting', phase: 'not-started' };
  if (child.status === ExecutionStatus.RUNNING) {
    const { state, latest } = await latestState<OnboardingState>(deps.sfn, arn);
    return {
      ...line,
      status: 'running',
      phase: phaseOfState(state ?? '') ?? 'starting',
      nodeConfigReady: Boolean(latest?.nodeConfig),
      ...(latest?.registration?.instance ? { nodeName: latest.registration.instance.instanceId } : {}),
    };
  }
  if (child.status === ExecutionStatus.SUCCEEDED) {
    const brief = (JSON.parse(child.output ?? '{}') as { brief?: { status?: string; instanceId?: string } }).brief;
    return { ...line, status: brief?.status ?? 'joined', phase: 'done', nodeName: brief?.instanceId ?? null };
  }
  const { problem, fix } = splitFix(child.cause ?? '');
  return { ...line, status: 'failed', phase: 'failed', error: child.error, problem, ...(fix ? { fix } : {}) };
}

/**
 * `GET /fleets/{fleetId}`: the fleet's status and each server's. After the end, the stored result
 * (one read); while it runs, each server's child execution (its phase, as GET /nodes/{requestId}
 * gives it), {@link STATUS_CONCURRENCY} at a time.
 */
export async function getFleet(
  deps: {
    sfn: SFNClient;
    store: RunStore;
    settings: Pick<Settings, 'fleetStateMachineArn' | 'onboardStateMachineArn'>;
  },
  fleetId: string,
): Promise<Record<string, unknown>> {
  const { execution, input } = await fleetExecution(deps, fleetId);
  const body: Record<string, unknown> = {
    fleetId,
    status: execution.status,
    cluster: input.cluster,
    startedAt: execution.startDate?.toISOString(),
    ...(execution.stopDate ? { stoppedAt: execution.stopDate.toISOString() } : {}),
  };
  if (execution.status === ExecutionStatus.FAILED) {
    body.error = execution.error;
    if (execution.error === AlertDeliveryError.errorName) body.alertDelivered = false;
  }
  if (execution.status !== ExecutionStatus.RUNNING) {
    const result = await deps.store.getJson<FleetSummary>(input.resultKey);
    if (result) {
      return {
        ...body,
        phase: 'done',
        outcome: result.status,
        headline: result.headline,
        counts: result.counts,
        nodes: result.nodes,
      };
    }
  }
  const nodes = await mapLimit(input.members ?? [], STATUS_CONCURRENCY, (m) => memberLine(deps, m));
  const count = (status: string) => nodes.filter((n) => n.status === status).length;
  return {
    ...body,
    phase: execution.status === ExecutionStatus.RUNNING ? 'onboarding' : 'ended-without-summary',
    counts: {
      servers: nodes.length,
      waiting: count('waiting'),
      running: count('running'),
      joined: count('joined'),
      warning: count('warning'),
      failed: count('failed'),
    },
    nodes,
  };
}

/**
 * `GET /fleets/{fleetId}/nodeconfigs`: every NodeConfig issued and not yet deleted, with the
 * commands that install it, for the team's own tooling; the servers whose NodeConfig is not there
 * (not issued yet, or their onboarding ended) are listed as `pending`. Only the identity that
 * submitted the fleet gets them (the rule of GET /nodes/{id}/nodeconfig); never cached.
 */
export async function getFleetNodeConfigs(
  deps: { sfn: SFNClient; ssm: SSMClient; settings: Pick<Settings, 'fleetStateMachineArn' | 'parameterPrefix'> },
  fleetId: string,
  caller: string,
): Promise<Record<string, unknown>> {
  const { execution, input } = await fleetExecution(deps, fleetId);
  // The NodeConfigs hold activation codes: only the identity that asked for them gets them.
  if (!input.requester || principalOf(input.requester) !== principalOf(caller)) {
    throw new NotRequesterError(`Only the identity that submitted ${fleetId} may fetch its NodeConfigs.`, {
      fix: 'Fetch them with the same IAM user or role that called POST /fleets (any session of that role).',
    });
  }
  if (execution.status !== ExecutionStatus.RUNNING) {
    throw new OnboardingEndedError(
      `Fleet ${fleetId} has ended (${execution.status}); its activations and NodeConfigs were deleted.`,
      { fix: 'Submit a new fleet for new activations.' },
    );
  }
  const members = input.members ?? [];
  const byParameter = new Map(members.map((m) => [requestParameters(deps.settings, m.requestId).nodeConfig, m]));
  const names = [...byParameter.keys()];
  const found = new Map<string, NodeConfigHandout>();
  for (let i = 0; i < names.length; i += GET_PARAMETERS_MAX) {
    const answer = await deps.ssm.send(
      new GetParametersCommand({ Names: names.slice(i, i + GET_PARAMETERS_MAX), WithDecryption: true }),
    );
    for (const parameter of answer.Parameters ?? []) {
      if (parameter.Name && parameter.Value)
        found.set(parameter.Name, JSON.parse(parameter.Value) as NodeConfigHandout);
    }
  }
  const ready = names.flatMap((name) => {
    const handout = found.get(name);
    const member = byParameter.get(name) as FleetMemberRef;
    return handout ? [{ name: member.name, requestId: member.requestId, fileName: 'nodeConfig.yaml', ...handout }] : [];
  });
  const pending = members
    .filter((m) => !found.has(requestParameters(deps.settings, m.requestId).nodeConfig))
    .map(({ name, requestId }) => ({ name, requestId }));
  return { fleetId, nodeConfigs: ready, pending };
}
