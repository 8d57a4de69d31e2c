import {
  DescribeExecutionCommand,
  type DescribeExecutionCommandOutput,
  ExecutionAlreadyExists,
  ExecutionDoesNotExist,
  GetExecutionHistoryCommand,
  type SFNClient,
  StartExecutionCommand,
} from '@aws-sdk/client-sfn';
import { GetParameterCommand, ParameterNotFound, type SSMClient } from '@aws-sdk/client-ssm';
import type { AwsClients } from '../aws/clients';
import { ClusterNotFoundError, type HybridOpsError } from '../errors';
import { requestParameters, type Settings } from '../settings';
import { clusterFitProblems, describeClusterFacts } from './cluster';
import type { NodeConfigHandout } from './node-config';
import { deriveRequestId, type OnboardingRequest, type Problem, parseOnboardingBody, requestDigest } from './request';
import type { OnboardingInput, OnboardingState } from './state';

/** An API answer, before it is wrapped as an API Gateway proxy result. */
export interface ApiAnswer {
  statusCode: number;
  body: Record<string, unknown>;
  headers?: Record<string, string>;
}

const REQUEST_ID = /^[a-z0-9][-a-z0-9]{0,62}$/;

/** Which request field each cluster-fit error is about, for the 400's problem list. */
const FIELD_OF_ERROR: Record<string, string> = {
  UnsupportedOperatingSystemError: 'node.os',
  NodeIpOutsideRemoteNodeNetworkError: 'node.ip',
  PodCidrOutsideRemotePodNetworkError: 'node.podCidr',
  KubernetesVersionSkewError: 'kubernetesVersion',
};

const toProblem = (error: HybridOpsError): Problem => ({
  field: FIELD_OF_ERROR[error.name] ?? 'cluster',
  message: error.message,
});

const invalid = (problems: Problem[]): ApiAnswer => ({
  statusCode: 400,
  body: {
    message: `The onboarding request has ${problems.length} problem(s); nothing was started.`,
    problems,
  },
});

export function executionArn(stateMachineArn: string, requestId: string): string {
  return `${stateMachineArn.replace(':stateMachine:', ':execution:')}:${requestId}`;
}

export interface SubmitDeps {
  clients: Pick<AwsClients, 'sfn' | 'eks' | 'ec2'>;
  settings: Pick<Settings, 'clusterName' | 'labelPrefix' | 'onboardStateMachineArn'>;
}

/**
 * `POST /nodes`: validates the request (shape, then against the cluster) and lists every problem
 * in a 400 before anything starts; then starts the onboarding execution named by the request id.
 * The same client token and body again answers 202 with the same request; a different body under
 * the same token answers 409.
 */
export type Validation = { ok: true; request: OnboardingRequest } | { ok: false; problems: Problem[] };

/**
 * Validates an onboarding body: its shape, then against this stage and the cluster as it is now.
 * Lists every problem. Shared by `POST /nodes` and the local runner.
 */
export async function validateSubmission(
  deps: Pick<SubmitDeps, 'clients'> & { settings: Pick<Settings, 'clusterName' | 'labelPrefix'> },
  body: string | null | undefined,
): Promise<Validation> {
  const parsed = parseOnboardingBody(body, deps.settings.labelPrefix);
  if (!parsed.ok) return parsed;
  const request = parsed.request;
  if (request.cluster !== deps.settings.clusterName) {
    return {
      ok: false,
      problems: [
        { field: 'cluster', message: `this deployment onboards nodes into '${deps.settings.clusterName}' only` },
      ],
    };
  }
  try {
    const facts = await describeClusterFacts(deps.clients, request.cluster);
    const problems = clusterFitProblems(request, facts);
    return problems.length ? { ok: false, problems: problems.map(toProblem) } : { ok: true, request };
  } catch (error) {
    if (error instanceof ClusterNotFoundError) return { ok: false, problems: [toProblem(error)] };
    throw error;
  }
}

/** The execution input for a validated request. */
export function executionInput(request: OnboardingRequest, requester: string): OnboardingInput {
  return { requestId: deriveRequestId(request), requester, requestDigest: requestDigest(request), request };
}

/**
 * `POST /nodes`: validates the request (shape, then against the cluster) and lists every problem
 * in a 400 before anything starts; then starts the onboarding execution named by the request id.
 * The same client token and body again answers 202 with the same request; a different body under
 * the same token answers 409.
 */
export async function submitOnboarding(
  deps: SubmitDeps,
  input: { body: string | null | undefined; requester: string; baseUrl: string },
): Promise<ApiAnswer> {
  const validation = await validateSubmission(deps, input.body);
  if (!validation.ok) return invalid(validation.problems);
  const request = validation.request;
  const started = executionInput(request, input.requester);
  const { requestId, requestDigest: digest } = started;
  const stateMachineArn = requireStateMachine(deps.settings);
  const accepted = (arn: string, existing: boolean): ApiAnswer => ({
    statusCode: 202,
    body: {
      requestId,
      executionArn: arn,
      existing,
      statusUrl: `${input.baseUrl}/nodes/${requestId}`,
      nodeConfigUrl: `${input.baseUrl}/nodes/${requestId}/nodeconfig`,
    },
    headers: { location: `${input.baseUrl}/nodes/${requestId}` },
  });
  try {
    const answer = await deps.clients.sfn.send(
      new StartExecutionCommand({ stateMachineArn, name: requestId, input: JSON.stringify(started) }),
    );
    return accepted(answer.executionArn ?? executionArn(stateMachineArn, requestId), false);
  } catch (error) {
    if (!(error instanceof ExecutionAlreadyExists)) throw error;
  }
  // Same name: a retried POST (same body) or a reused token (different body).
  const arn = executionArn(stateMachineArn, requestId);
  const existing = await deps.clients.sfn.send(new DescribeExecutionCommand({ executionArn: arn }));
  const previous = JSON.parse(existing.input ?? '{}') as Partial<OnboardingInput>;
  if (previous.requestDigest === digest) return accepted(arn, true);
  return {
    statusCode: 409,
    body: {
      message: `clientToken '${request.clientToken}' was already used for a different request (${requestId}); nothing was started.`,
      requestId,
      fix: 'Use a new clientToken for a new request, or send exactly the same body to retry.',
    },
  };
}

/** What a running execution is doing, by the state it last entered. */
const PHASE_OF_STATE: Record<string, string> = {
  Preflight: 'checking-cluster',
  IssueActivation: 'issuing-activation',
  RenderNodeConfig: 'rendering-node-config',
  StartRegistrationWait: 'waiting-for-registration',
  WaitForRegistration: 'waiting-for-registration',
  CheckRegistration: 'waiting-for-registration',
  IsRegistered: 'waiting-for-registration',
  StartNodeWait: 'waiting-for-node',
  WaitForNode: 'waiting-for-node',
  CheckNode: 'waiting-for-node',
  IsNodeSettled: 'waiting-for-node',
  Finish: 'finishing',
  NotifySuccess: 'finishing',
  CleanUp: 'cleaning-up-after-failure',
  NotifyFailure: 'cleaning-up-after-failure',
};

async function describe(sfn: SFNClient, arn: string): Promise<DescribeExecutionCommandOutput | undefined> {
  try {
    return await sfn.send(new DescribeExecutionCommand({ executionArn: arn }));
  } catch (error) {
    if (error instanceof ExecutionDoesNotExist) return undefined;
    throw error;
  }
}

const notFound = (requestId: string): ApiAnswer => ({
  statusCode: 404,
  body: {
    message: `No onboarding request '${requestId}' exists.`,
    fix: 'Use the requestId that POST /nodes returned.',
  },
});

const badId = (requestId: string): ApiAnswer => ({
  statusCode: 400,
  body: { message: `'${requestId}' is not a request id (1-63 lower-case letters, digits and -).` },
});

/** `GET /nodes/{requestId}`: the onboarding's status, phase, and result or error. */
export async function getOnboardingStatus(
  deps: { sfn: SFNClient; settings: Pick<Settings, 'onboardStateMachineArn'> },
  requestId: string,
): Promise<ApiAnswer> {
  if (!REQUEST_ID.test(requestId)) return badId(requestId);
  const arn = executionArn(requireStateMachine(deps.settings), requestId);
  const execution = await describe(deps.sfn, arn);
  if (!execution) return notFound(requestId);
  const body: Record<string, unknown> = {
    requestId,
    status: execution.status,
    startedAt: execution.startDate?.toISOString(),
    stoppedAt: execution.stopDate?.toISOString(),
  };
  if (execution.status === 'RUNNING') {
    const { state, latest } = await latestState(deps.sfn, arn);
    body.phase = PHASE_OF_STATE[state ?? ''] ?? 'starting';
    body.nodeConfigReady = Boolean(latest?.nodeConfig);
    if (latest?.registration?.instance) body.instanceId = latest.registration.instance.instanceId;
    if (latest?.node?.hint) body.hint = latest.node.hint;
  } else if (execution.status === 'SUCCEEDED') {
    const { notification: _sent, ...summary } = JSON.parse(execution.output ?? '{}') as Record<string, unknown>;
    Object.assign(body, { phase: 'done', result: summary });
  } else {
    Object.assign(body, { phase: 'failed', error: execution.error, cause: execution.cause });
  }
  return { statusCode: 200, body };
}

/** The last state entered, and the state data the last Task left, from the execution history. */
async function latestState(sfn: SFNClient, arn: string): Promise<{ state?: string; latest?: OnboardingState }> {
  const history = await sfn.send(
    new GetExecutionHistoryCommand({ executionArn: arn, reverseOrder: true, maxResults: 50 }),
  );
  let state: string | undefined;
  let latest: OnboardingState | undefined;
  for (const event of history.events ?? []) {
    if (!state && event.stateEnteredEventDetails?.name) state = event.stateEnteredEventDetails.name;
    if (!latest && event.type === 'TaskStateExited' && event.stateExitedEventDetails?.output) {
      latest = JSON.parse(event.stateExitedEventDetails.output) as OnboardingState;
    }
    if (state && latest) break;
  }
  return { state, latest };
}

/**
 * `GET /nodes/{requestId}/nodeconfig`: the NodeConfig (with the activation code) and the two
 * nodeadm commands, while the onboarding runs. The answer must not be cached.
 */
export async function getNodeConfig(
  deps: { sfn: SFNClient; ssm: SSMClient; settings: Pick<Settings, 'onboardStateMachineArn' | 'parameterPrefix'> },
  requestId: string,
): Promise<ApiAnswer> {
  if (!REQUEST_ID.test(requestId)) return badId(requestId);
  const execution = await describe(deps.sfn, executionArn(requireStateMachine(deps.settings), requestId));
  if (!execution) return notFound(requestId);
  if (execution.status !== 'RUNNING') {
    return {
      statusCode: 410,
      body: {
        message: `Onboarding ${requestId} has ended (${execution.status}); its activation and NodeConfig were deleted.`,
        fix: 'Submit a new onboarding request for a new activation.',
      },
    };
  }
  const handout = await readNodeConfigHandout(deps, requestId);
  if (!handout) {
    return {
      statusCode: 409,
      body: {
        message: `The NodeConfig for ${requestId} is not issued yet.`,
        fix: 'Poll GET /nodes/{requestId} until nodeConfigReady is true.',
      },
      headers: { 'retry-after': '10' },
    };
  }
  const request = (JSON.parse(execution.input ?? '{}') as { request?: OnboardingRequest }).request;
  return {
    statusCode: 200,
    body: { requestId, node: request?.node.name, fileName: 'nodeConfig.yaml', ...handout },
    headers: { 'cache-control': 'no-store' },
  };
}

/** Reads the stored NodeConfig handout, or undefined when it is not issued (or already deleted). */
export async function readNodeConfigHandout(
  deps: { ssm: SSMClient; settings: Pick<Settings, 'parameterPrefix'> },
  requestId: string,
): Promise<NodeConfigHandout | undefined> {
  try {
    const answer = await deps.ssm.send(
      new GetParameterCommand({ Name: requestParameters(deps.settings, requestId).nodeConfig, WithDecryption: true }),
    );
    return answer.Parameter?.Value ? (JSON.parse(answer.Parameter.Value) as NodeConfigHandout) : undefined;
  } catch (error) {
    if (error instanceof ParameterNotFound) return undefined;
    throw error;
  }
}

function requireStateMachine(settings: Pick<Settings, 'onboardStateMachineArn'>): string {
  if (!settings.onboardStateMachineArn)
    throw new Error('ONBOARD_STATE_MACHINE_ARN is not set; serverless.yml sets it.');
  return settings.onboardStateMachineArn;
}
