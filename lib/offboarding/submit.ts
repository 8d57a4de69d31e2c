import type { EKSClient } from '@aws-sdk/client-eks';
import type { SFNClient } from '@aws-sdk/client-sfn';
import type { SSMClient } from '@aws-sdk/client-ssm';
import type { Clock } from '../clock';
import { ClientTokenReusedError, ClusterNotFoundError, NodeLockedError, RequestRejectedError } from '../errors';
import type { NodeReaderFactory } from '../kube/types';
import { readNodeLock } from '../node-lock';
import { lockParameter, type Settings } from '../settings';
import { startExecutionOnce } from '../executions';
import { requireStateMachine } from './api';
import { describeTargetCluster } from './cluster';
import { manualCleanup } from './leftovers';
import {
  deriveRequestId,
  type OffboardingAsk,
  type OffboardingRequest,
  type Problem,
  parseOffboardingRequest,
  requestDigest,
} from './request';
import type { OffboardingInput } from './state';
import { type OffboardingTarget, resolveOffboardingTarget } from './target';

/** Where the lock of each workflow's runs is followed, for the 409 that names the holder. */
const STATUS_PATH = { onboarding: 'nodes', offboarding: 'offboardings', upgrade: 'upgrades' } as const;

export interface SubmitDeps {
  clients: { sfn: SFNClient; eks: EKSClient; ssm: SSMClient };
  nodes: NodeReaderFactory;
  clock: Clock;
  settings: Pick<Settings, 'clusterName' | 'region' | 'parameterPrefix' | 'offboardStateMachineArn'>;
}

type ValidateDeps = Omit<SubmitDeps, 'clients' | 'settings' | 'clock'> & {
  clients: Pick<SubmitDeps['clients'], 'eks' | 'ssm'>;
  settings: Pick<Settings, 'clusterName' | 'region'>;
};

/** A request that names a node of this cluster it may offboard, one already gone, or every problem. */
export type Validation =
  | { ok: true; kind: 'found'; request: OffboardingRequest; target: OffboardingTarget }
  | { ok: true; kind: 'gone'; request: OffboardingRequest; message: string }
  | { ok: false; problems: Problem[] };

const rejected = (problems: Problem[]) =>
  new RequestRejectedError(`The offboarding request has ${problems.length} problem(s); nothing was started.`, {
    details: { problems },
  });

/**
 * Validates an offboarding: the request's shape, then the node it names, as the cluster has it
 * now. A node that is not a hybrid node of this cluster is a problem; one already gone is not
 * (offboarding it is done). Shared by `DELETE /nodes/{node}` and the local runner.
 */
export async function validateOffboarding(deps: ValidateDeps, ask: OffboardingAsk): Promise<Validation> {
  const parsed = parseOffboardingRequest(ask, deps.settings.clusterName);
  if (!parsed.ok) return parsed;
  const request = parsed.request;
  let cluster: Awaited<ReturnType<typeof describeTargetCluster>>;
  try {
    cluster = await describeTargetCluster(deps.clients.eks, request.cluster, deps.settings.region);
  } catch (error) {
    if (error instanceof ClusterNotFoundError)
      return { ok: false, problems: [{ field: 'cluster', message: error.message }] };
    throw error;
  }
  const resolved = await resolveOffboardingTarget({ ssm: deps.clients.ssm, nodes: deps.nodes }, cluster, request.node);
  if (resolved.kind === 'refused') {
    return { ok: false, problems: [{ field: 'node', message: `${resolved.problem} ${resolved.fix}` }] };
  }
  if (resolved.kind === 'gone') return { ok: true, kind: 'gone', request, message: resolved.message };
  return { ok: true, kind: 'found', request, target: resolved.target };
}

/** The execution input for a validated request and the node it resolved to. */
export function executionInput(
  request: OffboardingRequest,
  target: Pick<OffboardingTarget, 'nodeName' | 'lockName' | 'instance'>,
  requester: string,
  settings: Pick<Settings, 'parameterPrefix' | 'region'>,
): OffboardingInput {
  const requestId = deriveRequestId(request);
  const names = { requestId, cluster: request.cluster, nodeName: target.nodeName, lockName: target.lockName };
  const onboardedName = target.instance?.onboardedName;
  return {
    requestId,
    requester,
    requestDigest: requestDigest(request),
    request,
    target: { nodeName: target.nodeName, ...(onboardedName ? { onboardedName } : {}) },
    resources: {
      lockParameter: lockParameter(settings, request.cluster, target.lockName),
      manualCleanup: manualCleanup(settings, names),
    },
  };
}

/** An offboarding started (or found started by the same request), or a node with nothing left to offboard. */
export type SubmittedOffboarding =
  | {
      outcome: 'started';
      requestId: string;
      executionArn: string;
      /** True when the same request had started it already. */
      existing: boolean;
      node: string;
      nodeName: string;
      statusUrl: string;
    }
  | { outcome: 'already-gone'; node: string; cluster: string; message: string };

/**
 * The refusal when another live run holds the node's lock, else undefined. A holder whose deadline
 * has passed is stale: the workflow's own lock step takes it over.
 */
export async function nodeLockedBy(
  deps: { clients: { ssm: SSMClient }; clock: Clock },
  started: Pick<OffboardingInput, 'requestId' | 'resources'>,
  node: string,
): Promise<NodeLockedError | undefined> {
  const holder = await readNodeLock(deps.clients.ssm, started.resources.lockParameter);
  if (!holder || holder.requestId === started.requestId || new Date(holder.expiresAt) <= deps.clock.now()) {
    return undefined;
  }
  const workflow = holder.workflow ?? 'onboarding';
  return new NodeLockedError(
    `The ${workflow} ${holder.requestId} holds ${node} (until ${holder.expiresAt}); nothing was started.`,
    {
      fix: `Wait for it to end (GET /${STATUS_PATH[workflow]}/${holder.requestId}), then offboard the node again.`,
      details: { holder: { workflow, requestId: holder.requestId, expiresAt: holder.expiresAt } },
      retryAfterSeconds: 60,
    },
  );
}

/**
 * `DELETE /nodes/{node}`: validates the request and the node (every problem listed, nothing
 * started: {@link RequestRejectedError}); a node already gone is answered as such, not started;
 * a node another run holds is {@link NodeLockedError}. Then starts the offboarding execution named
 * by the request id. The same client token and options again is the same request; other options
 * under the same token and node are {@link ClientTokenReusedError}.
 */
export async function submitOffboarding(
  deps: SubmitDeps,
  input: { ask: OffboardingAsk; requester: string; baseUrl: string },
): Promise<SubmittedOffboarding> {
  const validation = await validateOffboarding(deps, input.ask);
  if (!validation.ok) throw rejected(validation.problems);
  const { request } = validation;
  if (validation.kind === 'gone') {
    return { outcome: 'already-gone', node: request.node, cluster: request.cluster, message: validation.message };
  }
  const started = executionInput(request, validation.target, input.requester, deps.settings);
  const { requestId } = started;
  const busy = await nodeLockedBy(deps, started, request.node);
  if (busy) throw busy;
  const stateMachineArn = requireStateMachine(deps.settings);
  const answer = (arn: string, existing: boolean): SubmittedOffboarding => ({
    outcome: 'started',
    requestId,
    executionArn: arn,
    existing,
    node: request.node,
    nodeName: started.target.nodeName,
    statusUrl: `${input.baseUrl}/offboardings/${requestId}`,
  });
  // The same name again: a retried DELETE (same options), or a reused token (other options).
  const execution = await startExecutionOnce(deps.clients.sfn, stateMachineArn, requestId, started);
  if (execution) return answer(execution.executionArn, execution.existing);
  throw new ClientTokenReusedError(
    `clientToken '${request.clientToken}' was already used to offboard ${request.node} with other options (${requestId}); nothing was started.`,
    {
      details: { requestId },
      fix: 'Use a new clientToken for a new request, or send exactly the same options to retry.',
    },
  );
}
