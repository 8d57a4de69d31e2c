import { ExecutionStatus, type SFNClient } from '@aws-sdk/client-sfn';
import { GetParameterCommand, ParameterNotFound, type SSMClient } from '@aws-sdk/client-ssm';
import {
  NodeConfigNotIssuedError,
  NotRequesterError,
  OnboardingEndedError,
  RequestNotFoundError,
  RequestRejectedError,
} from '../errors';
import { describeExecution, endedOutcome, executionArn, latestState } from '../executions';
import { requestParameters, type Settings } from '../settings';
import { REQUEST_ID, requireStateMachine } from './api';
import type { NodeConfigHandout } from './node-config';
import type { OnboardingRequest } from './request';
import type { OnboardingState } from './state';

/** What a running execution is doing, by the state it last entered (every state but a Fail). */
export const PHASE_OF_STATE: Record<string, string> = {
  CheckInput: 'starting',
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
  IsGpuCheckNeeded: 'verifying-gpus',
  StartGpuWait: 'verifying-gpus',
  WaitForGpus: 'verifying-gpus',
  CheckGpus: 'verifying-gpus',
  AreGpusSettled: 'verifying-gpus',
  IsSmokeTestWanted: 'verifying-gpus',
  StartSmokeTest: 'gpu-smoke-test',
  WaitForSmokeTest: 'gpu-smoke-test',
  CheckSmokeTest: 'gpu-smoke-test',
  IsSmokeTestDone: 'gpu-smoke-test',
  FinishOnboarding: 'finishing',
  FinishComplete: 'finishing',
  WaitBeforeFinishRetry: 'finishing',
  SummarizeFinishFailure: 'finishing',
  ReportJoined: 'finishing',
  MemberJoined: 'finishing',
  NotifySuccess: 'finishing',
  DescribeUndeliveredSuccess: 'finishing',
  CleanUpOnboarding: 'cleaning-up-after-failure',
  CleanupComplete: 'cleaning-up-after-failure',
  WaitBeforeCleanupRetry: 'cleaning-up-after-failure',
  DescribeCleanupFailure: 'cleaning-up-after-failure',
  CleanupTriedBefore: 'cleaning-up-after-failure',
  ComposeCleanupFailureAlert: 'cleaning-up-after-failure',
  ComposeCleanupFailureAfterTry: 'cleaning-up-after-failure',
  ReportFailed: 'cleaning-up-after-failure',
  NotifyFailure: 'cleaning-up-after-failure',
  DescribeUndeliveredFailure: 'cleaning-up-after-failure',
  UndeliveredCause: 'cleaning-up-after-failure',
};

/**
 * States of the previous definition (test/fixtures/onboard-node.previous.asl.json) this one has
 * not: an execution keeps the definition it started with (onboardings run up to 32 days), so one
 * started before the deploy may still be in them.
 */
const PHASE_OF_PREVIOUS_STATE: Record<string, string> = {
  Finish: 'finishing',
  CleanUp: 'cleaning-up-after-failure',
  JoinedButNotNotified: 'finishing',
};

/** What a running execution is doing, by the state it last entered, in this definition or the previous one. */
export const phaseOfState = (state: string): string | undefined =>
  PHASE_OF_STATE[state] ?? PHASE_OF_PREVIOUS_STATE[state];

const notFound = (requestId: string) =>
  new RequestNotFoundError(`No onboarding request '${requestId}' exists.`, {
    fix: 'Use the requestId that POST /nodes returned.',
  });

const badId = (requestId: string) =>
  new RequestRejectedError(`'${requestId}' is not a request id (1-63 lower-case letters, digits and -).`);

/** `GET /nodes/{requestId}`: the onboarding's status, phase, and result or error. */
export async function getOnboarding(
  deps: { sfn: SFNClient; settings: Pick<Settings, 'onboardStateMachineArn'> },
  requestId: string,
): Promise<Record<string, unknown>> {
  if (!REQUEST_ID.test(requestId)) throw badId(requestId);
  const arn = executionArn(requireStateMachine(deps.settings), requestId);
  const execution = await describeExecution(deps.sfn, arn);
  if (!execution) throw notFound(requestId);
  const body: Record<string, unknown> = {
    requestId,
    status: execution.status,
    startedAt: execution.startDate?.toISOString(),
    stoppedAt: execution.stopDate?.toISOString(),
  };
  if (execution.status === ExecutionStatus.RUNNING) {
    const { state, latest } = await latestState<OnboardingState>(deps.sfn, arn);
    body.phase = phaseOfState(state ?? '') ?? 'starting';
    body.nodeConfigReady = Boolean(latest?.nodeConfig);
    if (latest?.registration?.instance) body.instanceId = latest.registration.instance.instanceId;
    if (latest?.node?.hint) body.hint = latest.node.hint;
  } else {
    Object.assign(body, endedOutcome(execution));
    // Joined is not always usable: a warning (GPUs not verified, NotReady, something left) shows here.
    // A result from before the brief existed is judged by its outcome and what it left.
    const result = body.result as
      { outcome?: string; left?: unknown[]; brief?: { status?: string; warnings?: unknown } } | undefined;
    if (body.phase === 'done' && result) {
      const clean = result.brief
        ? result.brief.status === 'joined'
        : result.outcome === 'joined' && !result.left?.length;
      body.outcome = clean ? 'joined' : 'joined-with-warnings';
      if (result.brief?.warnings) body.warnings = result.brief.warnings;
    }
  }
  return body;
}

/**
 * `GET /nodes/{requestId}/nodeconfig`: the NodeConfig (with the activation code) and the two
 * nodeadm commands, while the onboarding runs. The answer must not be cached.
 */
export async function getNodeConfig(
  deps: { sfn: SFNClient; ssm: SSMClient; settings: Pick<Settings, 'onboardStateMachineArn' | 'parameterPrefix'> },
  requestId: string,
  caller: string,
): Promise<Record<string, unknown>> {
  if (!REQUEST_ID.test(requestId)) throw badId(requestId);
  const execution = await describeExecution(deps.sfn, executionArn(requireStateMachine(deps.settings), requestId));
  if (!execution) throw notFound(requestId);
  const input = JSON.parse(execution.input ?? '{}') as { request?: OnboardingRequest; requester?: string };
  // The NodeConfig holds the activation code: only the identity that asked for it gets it.
  if (!input.requester || principalOf(input.requester) !== principalOf(caller)) {
    throw new NotRequesterError(`Only the identity that submitted ${requestId} may fetch its NodeConfig.`, {
      fix: 'Fetch it with the same IAM user or role that called POST /nodes (any session of that role).',
    });
  }
  if (execution.status !== ExecutionStatus.RUNNING) {
    throw new OnboardingEndedError(
      `Onboarding ${requestId} has ended (${execution.status}); its activation and NodeConfig were deleted.`,
      { fix: 'Submit a new onboarding request for a new activation.' },
    );
  }
  const handout = await readNodeConfigHandout(deps, requestId);
  if (!handout) {
    throw new NodeConfigNotIssuedError(`The NodeConfig for ${requestId} is not issued yet.`, {
      fix: 'Poll GET /nodes/{requestId} until nodeConfigReady is true.',
      retryAfterSeconds: 10,
    });
  }
  return { requestId, node: input.request?.node.name, fileName: 'nodeConfig.yaml', ...handout };
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

/**
 * The IAM identity behind an ARN: an assumed-role session counts as its role, so any session of
 * the role that submitted a request may fetch its NodeConfig.
 */
export function principalOf(arn: string): string {
  const assumed = /^arn:([^:]+):sts::(\d{12}):assumed-role\/([^/]+)\/.+$/.exec(arn);
  return assumed ? `arn:${assumed[1]}:iam::${assumed[2]}:role/${assumed[3]}` : arn;
}
