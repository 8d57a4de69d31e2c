import type { EC2Client } from '@aws-sdk/client-ec2';
import type { EKSClient } from '@aws-sdk/client-eks';
import type { SFNClient } from '@aws-sdk/client-sfn';
import { GetParametersCommand, type SSMClient } from '@aws-sdk/client-ssm';
import { describeClusterFacts } from '../cluster/facts';
import { ClientTokenReusedError, ClusterNotFoundError, type HybridOpsError, RequestRejectedError } from '../errors';
import { describeExecution, executionArn, startExecutionOnce } from '../executions';
import type { LockValue } from '../node-lock';
import { clusterFitProblems } from '../onboarding/cluster-fit';
import { executionInput } from '../onboarding/submit';
import { lockParameter, type Settings } from '../settings';
import { quotaProblem, readManagedInstanceQuota } from '../ssm-quota';
import type { RunStore } from '../store';
import {
  deriveFleetId,
  type FleetMemberRequest,
  type FleetRequest,
  fleetDigest,
  memberRequestId,
  type Problem,
  parseFleetBody,
} from './request';
import { type FleetInput, type FleetManifest, fleetKeys, type MemberInput } from './state';

export interface FleetSubmitDeps {
  clients: { sfn: SFNClient; eks: EKSClient; ec2: EC2Client; ssm: SSMClient };
  store: RunStore;
  settings: Pick<
    Settings,
    'clusterName' | 'labelPrefix' | 'parameterPrefix' | 'region' | 'onboardStateMachineArn' | 'fleetStateMachineArn'
  >;
  now: () => Date;
}

type ValidateDeps = Pick<FleetSubmitDeps, 'now'> & {
  clients: Pick<FleetSubmitDeps['clients'], 'eks' | 'ec2' | 'ssm'>;
  settings: Pick<Settings, 'clusterName' | 'labelPrefix' | 'parameterPrefix'>;
};

export type FleetValidation = { ok: true; request: FleetRequest; fleetId: string } | { ok: false; problems: Problem[] };

/** Which member field each cluster-fit error is about. */
const FIELD_OF_ERROR: Record<string, string> = {
  UnsupportedOperatingSystemError: 'os',
  NodeIpOutsideRemoteNodeNetworkError: 'ip',
  PodCidrOutsideRemotePodNetworkError: 'podCidr',
};

/**
 * Problems of the well-formed members with the cluster as it is now, from ONE DescribeCluster:
 * each member's fit (its IP and pod CIDR in the remote networks, its OS, the version skew), the
 * cluster's own problems once.
 */
async function clusterProblems(deps: ValidateDeps, cluster: string, members: FleetMemberRequest[]): Promise<Problem[]> {
  if (cluster !== deps.settings.clusterName) {
    return [{ field: 'cluster', message: `this deployment onboards nodes into '${deps.settings.clusterName}' only` }];
  }
  let facts: Awaited<ReturnType<typeof describeClusterFacts>>;
  try {
    facts = await describeClusterFacts(deps.clients, cluster);
  } catch (error) {
    if (error instanceof ClusterNotFoundError) return [{ field: 'cluster', message: error.message }];
    throw error;
  }
  const problems = new Map<string, Problem>();
  for (const { index, request } of members) {
    for (const error of clusterFitProblems(request, facts) as HybridOpsError[]) {
      const own = FIELD_OF_ERROR[error.name];
      const field = own
        ? `servers[${index}].${own}`
        : error.name === 'KubernetesVersionSkewError'
          ? 'defaults.kubernetesVersion'
          : 'cluster';
      problems.set(`${field}\n${error.message}`, { field, message: error.message });
    }
  }
  return [...problems.values()];
}

/** GetParameters takes at most 10 names a call (SSM API reference, GetParameters, Names). */
const GET_PARAMETERS_MAX = 10;

/**
 * Servers a live run holds (the node lock, lib/node-lock.ts), read 10 locks a call. A lock held by
 * this fleet's own member (a retried POST) is not a problem; a stale one (its deadline passed) will
 * be taken over by the member's preflight.
 */
async function lockProblems(
  deps: ValidateDeps,
  cluster: string,
  members: Array<FleetMemberRequest & { requestId?: string }>,
): Promise<Problem[]> {
  const byName = new Map(members.map((m) => [lockParameter(deps.settings, cluster, m.request.node.name), m]));
  const names = [...byName.keys()];
  const problems: Problem[] = [];
  const now = deps.now();
  for (let i = 0; i < names.length; i += GET_PARAMETERS_MAX) {
    const answer = await deps.clients.ssm.send(
      new GetParametersCommand({ Names: names.slice(i, i + GET_PARAMETERS_MAX) }),
    );
    for (const parameter of answer.Parameters ?? []) {
      const member = byName.get(parameter.Name ?? '');
      if (!member) continue;
      let lock: LockValue | undefined;
      try {
        lock = JSON.parse(parameter.Value ?? 'null') ?? undefined;
      } catch {
        lock = undefined; // not a lock's value: preflight treats it as no lock
      }
      if (!lock || lock.requestId === member.requestId || !(new Date(lock.expiresAt) > now)) continue;
      const workflow = lock.workflow ?? 'onboarding';
      const path = { onboarding: 'nodes', offboarding: 'offboardings', upgrade: 'upgrades' }[workflow];
      problems.push({
        field: `servers[${member.index}].name`,
        message: `${member.request.node.name} is held by the ${workflow} ${lock.requestId} (until ${lock.expiresAt}); wait for it to end (GET /${path}/${lock.requestId}) or leave this server out`,
      });
    }
  }
  return problems;
}

/**
 * Validates a fleet body: its shape and each server as `POST /nodes` validates a request, then the
 * well-formed servers against SSM's tier (lib/ssm-quota.ts, with the fleet's size), the cluster
 * (one DescribeCluster) and the node locks. Lists every
 * problem with the server's index and field. Shared by `POST /fleets` and the local runner.
 */
export async function validateFleetSubmission(
  deps: ValidateDeps,
  body: string | null | undefined,
): Promise<FleetValidation> {
  const parsed = parseFleetBody(body, deps.settings.labelPrefix);
  const problems = parsed.ok ? [] : [...parsed.problems];
  const members = parsed.ok ? parsed.request.members : parsed.wellFormed;
  const cluster = parsed.ok ? parsed.request.cluster : parsed.cluster;
  const fleetId = parsed.ok ? deriveFleetId(parsed.request) : undefined;
  if (cluster && members.length) {
    // Every server registers one more on-prem managed instance: a fleet that would pass SSM's
    // standard tier is refused now, with the fix, rather than server by server at nodeadm init.
    const full = quotaProblem(await readManagedInstanceQuota(deps.clients.ssm), members.length);
    problems.push(
      ...(full ? [{ field: 'servers', message: full }] : []),
      ...(await clusterProblems(deps, cluster, members)),
      ...(await lockProblems(
        deps,
        cluster,
        members.map((m) => ({
          ...m,
          ...(fleetId ? { requestId: memberRequestId(cluster, fleetId, m.request.node.name) } : {}),
        })),
      )),
    );
  }
  if (!parsed.ok || problems.length || !fleetId) return { ok: false, problems };
  return { ok: true, request: parsed.request, fleetId };
}

/** The fleet's execution input and its manifest (each member's full onboard-node input). */
export function fleetExecution(
  validated: { request: FleetRequest; fleetId: string },
  requester: string,
  settings: Pick<Settings, 'parameterPrefix' | 'labelPrefix' | 'region'>,
): { input: FleetInput; manifest: FleetManifest } {
  const { request, fleetId } = validated;
  const keys = fleetKeys(fleetId);
  const requestDigest = fleetDigest(request);
  const members = request.members.map(({ index, request: member }) => {
    const requestId = memberRequestId(request.cluster, fleetId, member.node.name);
    const input = executionInput(member, requester, settings, { requestId, fleet: { fleetId, index } }) as MemberInput;
    return { index, name: member.node.name, requestId, input };
  });
  return {
    input: {
      fleetId,
      requester,
      requestDigest,
      cluster: request.cluster,
      manifestKey: keys.manifest,
      resultKey: keys.result,
      maxConcurrency: request.maxConcurrency,
      members: members.map(({ index, name, requestId }) => ({ index, name, requestId })),
    },
    manifest: { fleetId, requestDigest, requester, cluster: request.cluster, members },
  };
}

export function requireFleetStateMachine(settings: { fleetStateMachineArn?: string }): string {
  if (!settings.fleetStateMachineArn) throw new Error('FLEET_STATE_MACHINE_ARN is not set; serverless.yml sets it.');
  return settings.fleetStateMachineArn;
}

/** A fleet started (or found started by the same request): where the team follows it and each server. */
export interface SubmittedFleet {
  fleetId: string;
  executionArn: string;
  existing: boolean;
  cluster: string;
  statusUrl: string;
  nodeConfigsUrl: string;
  members: Array<{ name: string; requestId: string; statusUrl: string }>;
}

/**
 * `POST /fleets`: validates the fleet (every problem listed, {@link RequestRejectedError}) before
 * anything starts; writes the manifest to the run store, then starts the fleet's execution named by
 * its id. The same client token and body again is the same fleet (found before anything is
 * written); another body under that token is {@link ClientTokenReusedError}.
 */
export async function submitFleet(
  deps: FleetSubmitDeps,
  input: { body: string | null | undefined; requester: string; baseUrl: string },
): Promise<SubmittedFleet> {
  const validation = await validateFleetSubmission(deps, input.body);
  if (!validation.ok) {
    throw new RequestRejectedError(
      `The fleet request has ${validation.problems.length} problem(s); nothing was started.`,
      { details: { problems: validation.problems } },
    );
  }
  const { input: started, manifest } = fleetExecution(validation, input.requester, deps.settings);
  const { fleetId } = started;
  const stateMachineArn = requireFleetStateMachine(deps.settings);
  const accepted = (arn: string, existing: boolean): SubmittedFleet => ({
    fleetId,
    executionArn: arn,
    existing,
    cluster: started.cluster,
    statusUrl: `${input.baseUrl}/fleets/${fleetId}`,
    nodeConfigsUrl: `${input.baseUrl}/fleets/${fleetId}/nodeconfigs`,
    members: started.members.map(({ name, requestId }) => ({
      name,
      requestId,
      statusUrl: `${input.baseUrl}/nodes/${requestId}`,
    })),
  });
  const reused = () =>
    new ClientTokenReusedError(
      `clientToken '${validation.request.clientToken}' was already used for a different fleet (${fleetId}); nothing was started.`,
      { details: { fleetId }, fix: 'Use a new clientToken for a new fleet, or send exactly the same body to retry.' },
    );
  // A fleet with this id already: found before the manifest is written, so another body under the
  // same token never overwrites the manifest a running fleet reads.
  const arn = executionArn(stateMachineArn, fleetId);
  const previous = await describeExecution(deps.clients.sfn, arn);
  if (previous) {
    const digest = (JSON.parse(previous.input ?? '{}') as { requestDigest?: string }).requestDigest;
    if (digest === started.requestDigest) return accepted(arn, true);
    throw reused();
  }
  await deps.store.putJson(started.manifestKey, manifest);
  const execution = await startExecutionOnce(deps.clients.sfn, stateMachineArn, fleetId, started);
  if (execution) return accepted(execution.executionArn, execution.existing);
  throw reused();
}
