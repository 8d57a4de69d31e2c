import { DescribeExecutionCommand, ExecutionAlreadyExists, StartExecutionCommand } from '@aws-sdk/client-sfn';
import type { AwsClients } from '../aws/clients';
import { ClusterNotFoundError, type HybridOpsError } from '../errors';
import type { Settings } from '../settings';
import { type ApiAnswer, executionArn, requireStateMachine } from './api';
import { clusterFitProblems, describeClusterFacts } from './cluster';
import { deriveRequestId, type OnboardingRequest, type Problem, parseOnboardingBody, requestDigest } from './request';
import type { OnboardingInput } from './state';

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
