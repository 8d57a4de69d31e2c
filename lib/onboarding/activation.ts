import {
  CreateActivationCommand,
  DeleteActivationCommand,
  DescribeActivationsFilterKeys,
  InvalidActivation,
  InvalidActivationId,
  paginateDescribeActivations,
  ParameterType,
  PutParameterCommand,
  type SSMClient,
} from '@aws-sdk/client-ssm';
import { PAGE_SIZE } from '../aws/page-sizes';
import type { Clock } from '../clock';
import { ActivationRejectedError, HybridRolePropagationError } from '../errors';
import { requestParameters, type Settings } from '../settings';
import type { OnboardingRequest } from './request';
import type { ActivationResult } from './state';
import { TAG_KEYS, tagValue } from '../tags';

export interface ActivationDeps {
  ssm: SSMClient;
  settings: Pick<Settings, 'hybridNodesRoleName' | 'parameterPrefix'>;
  clock: Clock;
}

export interface ActivationInput {
  requestId: string;
  requester: string;
  request: OnboardingRequest;
  clusterArn: string;
  expiresAt: string;
}

/**
 * Issues a single-use SSM hybrid activation for the node and puts its code straight into a
 * SecureString parameter. The code is returned by SSM once and never leaves this function in any
 * other way: the result carries the activation id and the parameter's name. If the code cannot be
 * stored, the activation is deleted again, so a failure leaves no usable activation behind.
 */
export async function issueActivation(deps: ActivationDeps, input: ActivationInput): Promise<ActivationResult> {
  const { request, requestId } = input;
  // A retried attempt (say the Lambda timed out after SSM answered) may have left an activation
  // whose code was never stored: remove it, so the request never has more than one.
  await deleteRequestActivations(deps.ssm, request.node.name, requestId);
  let created: { ActivationId?: string; ActivationCode?: string };
  try {
    created = await deps.ssm.send(
      new CreateActivationCommand({
        IamRole: deps.settings.hybridNodesRoleName,
        RegistrationLimit: 1,
        ExpirationDate: new Date(input.expiresAt),
        DefaultInstanceName: request.node.name,
        Description: tagValue(`EKS hybrid node ${request.node.name} for ${request.cluster}, request ${requestId}`),
        Tags: [
          { Key: TAG_KEYS.clusterArn, Value: input.clusterArn },
          { Key: TAG_KEYS.requestId, Value: requestId },
          { Key: TAG_KEYS.nodeName, Value: request.node.name },
          { Key: TAG_KEYS.nodeIp, Value: request.node.ip },
          { Key: TAG_KEYS.requester, Value: tagValue(input.requester) },
        ],
      }),
    );
  } catch (error) {
    throw classifyCreateActivationError(error, deps.settings.hybridNodesRoleName);
  }
  const activationId = created.ActivationId;
  const code = created.ActivationCode;
  if (!activationId || !code) {
    throw new ActivationRejectedError(
      'SSM CreateActivation answered without an activation id or code.',
      'Retry the onboarding.',
    );
  }

  const codeParameter = requestParameters(deps.settings, requestId).activationCode;
  try {
    await deps.ssm.send(
      new PutParameterCommand({
        Name: codeParameter,
        Type: ParameterType.SECURE_STRING,
        Value: code,
        Overwrite: true,
        Description: `SSM hybrid activation code for onboarding request ${requestId}`,
      }),
    );
  } catch (error) {
    // Undo, but report the error that made us undo; a failed undo is left to CleanUp's sweep.
    await deleteActivation(deps.ssm, activationId).catch(() => undefined);
    throw error;
  }
  return { activationId, codeParameter, expiresAt: input.expiresAt, issuedAt: deps.clock.now().toISOString() };
}

/**
 * What SSM CreateActivation answers (ValidationException) while it cannot see the role: right after
 * the role is created, or when it does not trust ssm.amazonaws.com. AWS documents it, followed by
 * ": <role ARN>", and that retrying once the role exists clears it (AWS Prescriptive Guidance,
 * https://docs.aws.amazon.com/prescriptive-guidance/latest/patterns/set-up-a-ci-cd-pipeline-for-hybrid-workloads-on-amazon-ecs-anywhere-by-using-aws-cdk-and-gitlab.html,
 * Troubleshooting; REFERENCE.md section 7).
 */
export const ROLE_NOT_VISIBLE_MESSAGE = 'Nonexistent role or missing ssm service principal in trust policy';

function classifyCreateActivationError(error: unknown, roleName: string): unknown {
  if (!(error instanceof Error)) return error;
  // Only that answer is IAM propagation, which the workflow retries for a few minutes. Any other
  // ValidationException, about the role or not (say, a role name SSM finds malformed), will fail
  // the same way every time: it is ActivationRejectedError, which is not retried.
  if (error.name === 'ValidationException' && error.message.includes(ROLE_NOT_VISIBLE_MESSAGE)) {
    return new HybridRolePropagationError(
      `SSM cannot use role ${roleName} yet: ${error.message}.`,
      `If the role is new, this clears by itself; otherwise make sure role ${roleName} exists and trusts ssm.amazonaws.com.`,
      { cause: error },
    );
  }
  if (error.name === 'ValidationException' || error.name === 'InvalidParameters') {
    return new ActivationRejectedError(
      `SSM rejected the activation: ${error.message}.`,
      `Check the hybrid nodes role name (${roleName}: a role name with its path, not an ARN) and the request.`,
      { cause: error },
    );
  }
  return error;
}

/** Deletes an activation; one that is already gone counts as deleted. */
export async function deleteActivation(ssm: SSMClient, activationId: string): Promise<'deleted' | 'already-gone'> {
  try {
    await ssm.send(new DeleteActivationCommand({ ActivationId: activationId }));
    return 'deleted';
  } catch (error) {
    if (error instanceof InvalidActivation || error instanceof InvalidActivationId) return 'already-gone';
    throw error;
  }
}

/** The ids of the activations this request created: those named for the node and tagged with the request id. */
export async function requestActivationIds(ssm: SSMClient, nodeName: string, requestId: string): Promise<string[]> {
  const ids: string[] = [];
  const pages = paginateDescribeActivations(
    { client: ssm, pageSize: PAGE_SIZE.ssmDescribeActivations },
    { Filters: [{ FilterKey: DescribeActivationsFilterKeys.DEFAULT_INSTANCE_NAME, FilterValues: [nodeName] }] },
  );
  for await (const page of pages) {
    for (const activation of page?.ActivationList ?? []) {
      const ours = activation.Tags?.some((t) => t.Key === TAG_KEYS.requestId && t.Value === requestId);
      if (ours && activation.ActivationId) ids.push(activation.ActivationId);
    }
  }
  return ids;
}

/** Deletes every activation this request created (see {@link requestActivationIds}). Returns their ids. */
export async function deleteRequestActivations(ssm: SSMClient, nodeName: string, requestId: string): Promise<string[]> {
  const ids = await requestActivationIds(ssm, nodeName, requestId);
  for (const id of ids) await deleteActivation(ssm, id);
  return ids;
}
